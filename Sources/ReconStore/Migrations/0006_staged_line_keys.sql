-- What a bill line meets its leg on (issue 12, §2), kept beside the line as staging writes it:
-- the key's refund part under the channel's rule, the shard hash of channel_txn_id, and the
-- original transaction id (the payment a refund refunds) for every channel. Identifiers compare
-- as bytes, as the reconcile's merge does. Lines staged before this migration have NULL keys:
-- fetch those days again before reconciling them.
ALTER TABLE staged_bill_lines
    ALTER COLUMN channel_txn_id TYPE text COLLATE "C",
    ALTER COLUMN refund_id TYPE text COLLATE "C",
    ADD COLUMN original_txn_id text COLLATE "C",
    ADD COLUMN match_refund_key text COLLATE "C",
    ADD COLUMN key_hash bigint;

-- The reconcile reads a channel-day's lines in key order. Not unique: a bill that repeats a key
-- is staged as the channel sent it, and the reconcile refuses it naming both lines.
DROP INDEX staged_bill_lines_txn;
CREATE INDEX staged_bill_lines_key ON staged_bill_lines (channel, bill_date, channel_txn_id, match_refund_key);
