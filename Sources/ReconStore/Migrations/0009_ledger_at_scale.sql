-- The ledger at scale (issue 11).

-- Claims read only rows that are due. Until now the claim index held scheduled and retryable
-- rows whose time had not come, so a million jobs in backoff (a channel down for hours) sat in
-- front of every idle claim. Now a row waiting for its time is promoted to 'available' when it
-- falls due (by the statement each claim runs first, through the index on run_at), and claims
-- read an index of available rows only.
DROP INDEX recon_jobs_claimable;
CREATE INDEX recon_jobs_available ON recon_jobs (queue, priority, run_at, id) WHERE state = 'available';
CREATE INDEX recon_jobs_due ON recon_jobs (run_at) WHERE state IN ('scheduled', 'retryable');
UPDATE recon_jobs SET state = 'available' WHERE state IN ('scheduled', 'retryable') AND run_at <= now();

-- Idempotent lease calls. Every lease call names a request id; the jobs it leased are recorded
-- under that id in the claim's own transaction, so the same id asked again (the answer was lost,
-- the worker failed over to another coordinator) gets the same jobs back from any coordinator.
-- The worker acknowledges an answer in its next lease call; a lease that expires without an
-- acknowledgement or a heartbeat was never received, and goes back without using an attempt.
CREATE TABLE recon_lease_requests (
    request_id      text        PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 200),
    worker          text        NOT NULL,
    job_ids         bigint[]    NOT NULL,
    tokens          bigint[]    NOT NULL,
    answered_at     timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz
);
-- Pruning, oldest first.
CREATE INDEX recon_lease_requests_answered ON recon_lease_requests (answered_at);

-- The request whose answer gave the current (or latest) lease; NULL for claims made without one.
ALTER TABLE recon_jobs ADD COLUMN lease_request text;
