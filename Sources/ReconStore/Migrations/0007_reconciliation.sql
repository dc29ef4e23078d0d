-- Reconciliation and settlement (issue 12): what each channel-day's reconcile decided about each
-- item, the virtual-account check, the per-status summaries, the settlements, and the people's
-- resolutions of discrepancies. Every table is written by a job's fenced completion with upserts
-- keyed by natural keys, so a rerun of any job leaves the same rows.

-- One row per item of a channel's bill day: a bill line and a leg with the same key, or either
-- alone. Keys are byte-compared, as the merge that produced them.
CREATE TABLE recon_results (
    -- Stable across reruns (an upsert keeps it): `recon discrepancies resolve ID` names it.
    id                  bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    channel             text COLLATE "C" NOT NULL,
    bill_date           date        NOT NULL,
    channel_txn_id      text COLLATE "C" NOT NULL,
    match_refund_key    text COLLATE "C" NOT NULL,
    -- 0 for the day's own item (which may have paired with an item carried from the day before);
    -- 1 for an item carried from the day before that stands apart, because the day holds an item
    -- of its own with the same side and key.
    lane                smallint    NOT NULL DEFAULT 0 CHECK (lane IN (0, 1)),
    key_hash            bigint      NOT NULL,
    status              text        NOT NULL CHECK (status IN ('matched', 'amount_mismatch', 'status_mismatch',
                            'fee_mismatch', 'channel_only', 'internal_only', 'carried_over')),
    -- Set when a side of the item was carried over from that (previous) day.
    carried_from        date,
    -- The bill side: its staged line (of bill_date's bill, or carried_from's), signed amount and
    -- normalized fee, whether the channel says money moved, and the channel's time.
    line_no             bigint,
    channel_amount_fen  bigint,
    channel_fee_fen     bigint,
    channel_moved       boolean,
    channel_time        timestamptz,
    -- The leg side.
    leg_id              text COLLATE "C",
    internal_amount_fen bigint,
    internal_fee_fen    bigint,
    leg_status          text,
    business_system     text COLLATE "C",
    merchant_id         text COLLATE "C",
    occurred_at         timestamptz,
    -- On a carried_over row: the day whose reconcile resolved it, and what it said there.
    resolved_on         date,
    resolved_status     text,
    PRIMARY KEY (channel, bill_date, channel_txn_id, match_refund_key, lane)
);

-- A shard's rows (key_hash % shards) and the carried items the next day reads.
CREATE INDEX recon_results_hash ON recon_results (channel, bill_date, key_hash);
CREATE INDEX recon_results_open ON recon_results (bill_date, status) WHERE status <> 'matched';

-- What one reconcile shard last committed, and the carried-over state of the day before that it
-- read: a finalize that changes that state later re-runs the days that read the old one.
CREATE TABLE recon_shard_runs (
    channel        text COLLATE "C" NOT NULL,
    bill_date      date    NOT NULL,
    shard          integer NOT NULL,
    shards         integer NOT NULL,
    prior_digest   text    NOT NULL,
    items          bigint  NOT NULL,
    job_id         bigint  NOT NULL,
    finished_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, bill_date, shard, shards)
);

-- One row per channel-day whose reconcile has begun or finished. `carry_digest` is a digest of
-- the day's carried_over items as the next day reads them ('' before finalize or when none).
CREATE TABLE recon_channel_days (
    channel        text COLLATE "C" NOT NULL,
    bill_date      date    NOT NULL,
    shards         integer,
    carry_digest   text    NOT NULL DEFAULT '',
    finalized_at   timestamptz,
    finalize_job   bigint,
    PRIMARY KEY (channel, bill_date)
);

-- Per channel (or virtual asset) and day, each status: count and both sums.
CREATE TABLE recon_summaries (
    channel             text COLLATE "C" NOT NULL,
    bill_date           date    NOT NULL,
    status              text    NOT NULL,
    items               bigint  NOT NULL,
    channel_amount_fen  bigint  NOT NULL,
    internal_amount_fen bigint  NOT NULL,
    PRIMARY KEY (channel, bill_date, status)
);

-- The virtual-account check: each virtual leg of the day against the ledger entries naming it,
-- and entries of the day whose leg no payments file holds.
CREATE TABLE recon_virtual_results (
    id                  bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    bill_date           date    NOT NULL,
    leg_id              text COLLATE "C" NOT NULL,
    -- '' for a leg without an entry.
    entry_id            text COLLATE "C" NOT NULL,
    asset               text    NOT NULL,
    status              text    NOT NULL CHECK (status IN ('matched', 'amount_mismatch', 'status_mismatch',
                            'channel_only', 'internal_only')),
    ledger_amount_fen   bigint,
    internal_amount_fen bigint,
    leg_status          text,
    business_system     text COLLATE "C",
    merchant_id         text COLLATE "C",
    account_id          text COLLATE "C",
    PRIMARY KEY (bill_date, leg_id, entry_id)
);

CREATE TABLE recon_virtual_days (
    bill_date    date PRIMARY KEY,
    checked_at   timestamptz NOT NULL DEFAULT now(),
    job_id       bigint NOT NULL
);

-- The day's settlement per business system, merchant and channel (a virtual asset in the
-- channel column), in fen: refunds positive, fees charged minus given back, net = gross −
-- refunds − fees.
CREATE TABLE recon_settlements (
    bill_date       date    NOT NULL,
    business_system text COLLATE "C" NOT NULL,
    merchant_id     text COLLATE "C" NOT NULL,
    channel         text COLLATE "C" NOT NULL,
    items           bigint  NOT NULL,
    gross_fen       bigint  NOT NULL,
    refunds_fen     bigint  NOT NULL,
    fees_fen        bigint  NOT NULL,
    net_fen         bigint  NOT NULL,
    PRIMARY KEY (bill_date, business_system, merchant_id, channel)
);

CREATE TABLE recon_settled_days (
    bill_date     date PRIMARY KEY,
    settled_at    timestamptz NOT NULL DEFAULT now(),
    file_path     text,
    file_sha256   text,
    discrepancies bigint NOT NULL,
    job_id        bigint NOT NULL
);

-- Who resolved a discrepancy, when and why. Keyed by the item's natural key, not its row, so a
-- resolution survives any rerun of the day. `scope` is 'channel' (key: channel, txn id, refund
-- key, lane) or 'virtual' (key: '', leg id, entry id, 0).
CREATE TABLE recon_resolutions (
    scope        text COLLATE "C" NOT NULL CHECK (scope IN ('channel', 'virtual')),
    bill_date    date    NOT NULL,
    channel      text COLLATE "C" NOT NULL,
    key_a        text COLLATE "C" NOT NULL,
    key_b        text COLLATE "C" NOT NULL,
    lane         smallint NOT NULL,
    note         text    NOT NULL,
    resolved_by  text    NOT NULL,
    resolved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, bill_date, channel, key_a, key_b, lane)
);

-- Every run of a business day's job graph (`recon run-day`, or the daily schedule's run_day):
-- which jobs it enqueued, so the day can be followed and a later day's fix-up knows it ran.
CREATE TABLE recon_day_runs (
    run_id      bigint  PRIMARY KEY,
    bill_date   date    NOT NULL,
    settle_job  bigint  NOT NULL,
    jobs        bigint[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recon_day_runs_day ON recon_day_runs (bill_date, run_id);

-- The key hash was FNV-1a, whose top bits cluster for ids that differ only in their last digits,
-- which made range shards uneven; it is now the first 63 bits of the MD5 of channel_txn_id,
-- which PostgreSQL computes too (ReconMatching's KeyHashSQL): stored hashes are recomputed.
UPDATE staged_bill_lines
SET key_hash = (('x' || substr(md5(channel_txn_id), 1, 16))::bit(64)::bigint & 9223372036854775807)
WHERE key_hash IS NOT NULL;
UPDATE payment_legs
SET key_hash = (('x' || substr(md5(channel_txn_id), 1, 16))::bit(64)::bigint & 9223372036854775807)
WHERE key_hash IS NOT NULL;

-- A reconcile shard reads its stretch of the key-hash range in merge order (key hash, then the
-- key's bytes) straight off these indexes, whatever the size of the day or of the history.
DROP INDEX staged_bill_lines_key;
CREATE INDEX staged_bill_lines_key
    ON staged_bill_lines (channel, bill_date, key_hash, channel_txn_id, match_refund_key);
-- Unique all the same: key_hash is a function of channel_txn_id.
DROP INDEX payment_legs_channel_key;
CREATE UNIQUE INDEX payment_legs_channel_key
    ON payment_legs (channel, business_date, key_hash, channel_txn_id, match_refund_key) WHERE leg_kind = 'channel';
