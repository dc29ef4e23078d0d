-- Where a fetch's time went, for "why did this bill take so long" and the benchmark's split:
-- fetch_ms from the job's start until the verified file was archived (download, decoding,
-- hashes); stage_ms for the staging transaction's parse-into-COPY; parse_cpu_ms the parse
-- thread's own CPU time within it (the rest of stage_ms is the server's load and waiting).
-- NULL for fetches recorded before this migration.
ALTER TABLE bill_fetches
    ADD COLUMN fetch_ms     bigint,
    ADD COLUMN stage_ms     bigint,
    ADD COLUMN parse_cpu_ms bigint;
