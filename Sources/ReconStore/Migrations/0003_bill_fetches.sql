-- Fetching channel bills: what was staged for each channel-day, every download attempt, and the
-- shared limits that keep many workers from flooding one channel.

-- A line that passed every check but one marked "flag" in CHANNELS.md §6 (a time outside the
-- day, an unknown transaction type): staged, and shown in the discrepancy report.
ALTER TABLE staged_bill_lines ADD COLUMN flag text;

-- One row per channel-day whose bill is staged: replaced with the lines, in the same fenced
-- transaction, so it always describes exactly the rows in staged_bill_lines.
CREATE TABLE bill_fetches (
    channel          text        NOT NULL,
    bill_date        date        NOT NULL,
    -- 'ready' (a bill with lines) or 'empty' (the channel said there was no business that day).
    outcome          text        NOT NULL CHECK (outcome IN ('ready', 'empty')),
    -- SHA-256 of the file as downloaded (the archive's name); NULL for an empty day without a file.
    file_sha256      text,
    file_bytes       bigint      NOT NULL DEFAULT 0,
    archive_path     text,
    lines            bigint      NOT NULL,
    payments         bigint      NOT NULL,
    refunds          bigint      NOT NULL,
    amount_fen       bigint      NOT NULL,
    fee_fen          bigint      NOT NULL,
    flagged          bigint      NOT NULL DEFAULT 0,
    -- WeChat's fee has 5 decimals: Σ exact fees − Σ fees rounded to fen, in 0.00001 yuan.
    fee_rounding_units bigint    NOT NULL DEFAULT 0,
    declared_totals  text,
    job_id           bigint,
    lease_token      bigint,
    worker           text,
    fetched_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, bill_date)
);

-- Every HTTP request a fetch made, successful or not, for audit and for "why is this bill late".
-- The URL is stored with query secrets (tokens, signatures) removed.
CREATE TABLE bill_fetch_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel      text        NOT NULL,
    bill_date    date        NOT NULL,
    job_id       bigint,
    attempt      integer,
    worker       text,
    step         text        NOT NULL,
    url          text        NOT NULL,
    http_status  integer,
    bytes        bigint      NOT NULL DEFAULT 0,
    duration_ms  bigint      NOT NULL,
    -- What came of it: ready, not_ready, empty_day, transient, permanent, or a curl error.
    outcome      text        NOT NULL,
    detail       text,
    started_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bill_fetch_attempts_day ON bill_fetch_attempts (channel, bill_date, id);

-- Concurrent requests per channel, across every worker: one row per permitted request. A worker
-- takes a free row (or one whose holder's time ran out, e.g. a worker killed mid-download) for
-- the length of one request.
CREATE TABLE recon_channel_slots (
    channel    text        NOT NULL,
    slot       integer     NOT NULL,
    holder     text,
    expires_at timestamptz,
    PRIMARY KEY (channel, slot)
);

-- Requests per second per channel, across every worker: each request reserves the next start
-- time (one interval after the previous reservation, or now), and waits until then.
CREATE TABLE recon_channel_pace (
    channel    text        PRIMARY KEY,
    next_start timestamptz NOT NULL DEFAULT now()
);
