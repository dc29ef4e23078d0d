-- The job ledger: every reconciliation and settlement task, leased to workers by coordinators.
-- Every coordination decision is one transaction over this table.

-- Fencing tokens: a fresh one for every lease, never reused, so a stale worker can be told apart.
CREATE SEQUENCE recon_lease_tokens AS bigint;

CREATE TABLE recon_jobs (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text        NOT NULL,
    queue            text        NOT NULL DEFAULT 'default',
    args             jsonb       NOT NULL DEFAULT '{}',
    -- Lower runs first (0 is the most urgent), then earlier run_at, then lower id.
    priority         smallint    NOT NULL DEFAULT 1,
    state            text        NOT NULL CHECK (state IN
                         ('pending', 'scheduled', 'available', 'running', 'retryable',
                          'completed', 'dead', 'cancelled')),
    attempt          integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL DEFAULT 20 CHECK (max_attempts > 0),
    -- Full-jitter exponential backoff for this job: a delay drawn from [0, min(cap, base·2^(n−1))].
    backoff_base_ms  bigint      NOT NULL DEFAULT 1000 CHECK (backoff_base_ms >= 0),
    backoff_cap_ms   bigint      NOT NULL DEFAULT 3600000 CHECK (backoff_cap_ms >= 0),
    run_at           timestamptz NOT NULL DEFAULT now(),
    -- One element per failed attempt: {"attempt", "at", "worker", "error"}.
    errors           jsonb       NOT NULL DEFAULT '[]',
    -- The latest lease: its worker and fencing token. Only state 'running' means the lease is live;
    -- the values stay afterwards to show who ran (or completed) the job last.
    lease_owner      text,
    lease_token      bigint,
    lease_expires_at timestamptz,
    heartbeat_at     timestamptz,
    attempted_at     timestamptz,
    finalized_at     timestamptz,
    -- Dependencies not yet completed; the job leaves 'pending' when it reaches 0. A counter, so a
    -- job that waits on hundreds (settlement after every shard) costs O(1) per completion.
    pending_dependencies integer NOT NULL DEFAULT 0 CHECK (pending_dependencies >= 0),
    -- Enqueueing the same key twice gives back the first job (idempotent enqueue).
    unique_key       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (state <> 'running' OR (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
);

-- A job waits in 'pending' until every job it depends on has completed.
CREATE TABLE recon_job_dependencies (
    job_id        bigint NOT NULL REFERENCES recon_jobs (id) ON DELETE CASCADE,
    depends_on_id bigint NOT NULL REFERENCES recon_jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, depends_on_id),
    CHECK (job_id <> depends_on_id)
);
CREATE INDEX recon_job_dependencies_upstream ON recon_job_dependencies (depends_on_id);

CREATE UNIQUE INDEX recon_jobs_unique_key ON recon_jobs (unique_key) WHERE unique_key IS NOT NULL;

-- Partial indexes: claiming, reaping and pruning look only at the few rows in their state, so
-- they stay fast when the table holds millions of finished jobs.
-- Claiming reads a queue's due jobs in (priority, run_at, id) order straight off this index, so it
-- costs the same with ten waiting jobs or a million.
CREATE INDEX recon_jobs_claimable ON recon_jobs (queue, priority, run_at, id)
    WHERE state IN ('available', 'scheduled', 'retryable');
CREATE INDEX recon_jobs_leases ON recon_jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX recon_jobs_pending ON recon_jobs (id) WHERE state = 'pending';
CREATE INDEX recon_jobs_finalized ON recon_jobs (finalized_at) WHERE state IN ('completed', 'dead', 'cancelled');
-- `recon jobs list --state dead` and the like, newest first, without walking every completed job.
CREATE INDEX recon_jobs_by_state ON recon_jobs (state, id) WHERE state <> 'completed';

-- What the `probe` job kind writes in its completion transaction: one row per completed job, so
-- a double completion would break the primary key. Used by tests, benchmarks and smoke checks.
CREATE TABLE recon_probe_runs (
    job_id      bigint      PRIMARY KEY,
    worker      text        NOT NULL,
    lease_token bigint      NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);
