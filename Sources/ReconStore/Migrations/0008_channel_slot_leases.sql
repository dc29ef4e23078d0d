-- A request slot names the job lease it was taken under, so that a slot whose holder's lease is
-- gone (a worker killed mid-download: its job reaped, leased again or ended) is free at once rather than
-- when its expiry passes, up to 2 × total_timeout + 60 s later. NULL for holders outside a job.
ALTER TABLE recon_channel_slots ADD COLUMN job_id bigint, ADD COLUMN lease_token bigint;
