import Foundation
import ReconCore
public import ReconJobs
public import ReconMatching
public import ReconPostgres

/// The reconcile of one shard (issue 12, §4), in two halves: `decide` reads both sides in merge
/// order on a read-only connection and writes every decided item to a `ResultSpool`; `commit`
/// moves the spool into `recon_results` inside the job's fenced completion.
///
/// Items carried over from the day before (`carried_over` rows of D−1 in the same hash range) are
/// looked at again here: a carried item pairs with the day's item of the opposite side and the
/// same key when that item would otherwise stand alone; otherwise it is decided alone under this
/// day's rules (so a carried leg the bill does not hold is `internal_only` here). Either way the
/// D−1 row is marked with where it was resolved.
public enum ShardReconciler {
    /// What `decide` found, for the completion.
    public struct Decided: Sendable {
        public var task: ShardTask
        public var spool: String
        public var items: Int64
        /// The carried-over state of the day before that this shard read (`CarryDigest`).
        public var priorDigest: String
        /// Each carried item of the day before: its row's key and what it became here.
        public var resolutions: [Resolution]
        public var counts: [MatchStatus: Int64]
        /// Per status, the items' absolute amounts in fen (the bill's, else the leg's).
        public var amounts: [MatchStatus: Int64]
    }

    public struct Resolution: Sendable, Equatable {
        public var key: MatchKey
        public var lane: Int64
        public var status: MatchStatus
    }

    static let lineColumns = """
        channel_txn_id, match_refund_key, key_hash, amount_fen, fee_fen, channel_status, txn_time, line_no
        """

    static let legColumns = """
        channel_txn_id, match_refund_key, key_hash, amount_fen, fee_fen, status, occurred_at, leg_id,
        business_system, merchant_id
        """

    /// Reads and decides the shard. Runs on a read-only connection, in one REPEATABLE READ
    /// transaction so that both sides and the day before are one snapshot.
    public static func decide(_ task: ShardTask, spoolPath: String, on connection: PGConnection) throws -> Decided {
        try connection.transaction(name: "reconcile \(task.channel) \(task.day) \(task.range)") { connection in
            try connection.execute(script: "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", name: "snapshot")
            let unkeyed =
                try connection.query(
                    """
                    SELECT count(*) FROM staged_bill_lines
                    WHERE channel = $1 AND bill_date = $2 AND key_hash IS NULL
                    """, [task.channel, task.day.pgDate], name: "reconcile: lines without keys"
                ).first?.decode(Int64.self, at: 0) ?? 0
            guard unkeyed == 0 else {
                throw ReconcileError(
                    "\(task.channel) \(task.day): \(unkeyed) bill lines were staged before keys were kept "
                        + "(migration 0006); fetch the day's bill again", retryable: false)
            }
            let priorDigest =
                try connection.query(CarryDigest.sql, task.priorParameters, name: "prior carry digest")
                .first?.decode(String.self, at: 0) ?? ""
            var carried = try CarriedItems.read(task, on: connection)
            let lines = try CursorStream(
                "shard_lines",
                sql: """
                    SELECT \(lineColumns) FROM staged_bill_lines
                    WHERE channel = $1 AND bill_date = $2 AND key_hash BETWEEN $3 AND $4
                    ORDER BY key_hash, channel_txn_id, match_refund_key
                    """, task.parameters, on: connection, decode: CarriedItems.line)
            let legs = try CursorStream(
                "shard_legs",
                sql: """
                    SELECT \(legColumns) FROM payment_legs
                    WHERE leg_kind = 'channel' AND channel = $1 AND business_date = $2 AND key_hash BETWEEN $3 AND $4
                    ORDER BY key_hash, channel_txn_id, match_refund_key
                    """, task.parameters, on: connection, decode: CarriedItems.leg)
            let spool = try ResultSpool(path: spoolPath)
            var writer = ResultWriter(task: task, spool: spool)
            var matcher = MergeMatcher(lines: lines, legs: legs)
            do {
                while let item = try matcher.next() {
                    try writer.write(carried.absorb(item), window: task.window)
                }
            } catch let error as MatchingError {
                // A key twice on the bill: name the archived file the two lines are in.
                var file = ""
                if case .duplicateBillKey = error,
                    let archived = try? connection.query(
                        "SELECT archive_path FROM bill_fetches WHERE channel = $1 AND bill_date = $2",
                        [task.channel, task.day.pgDate], name: "reconcile: the bill's file"
                    ).first?.decode(String?.self, at: 0)
                {
                    file = " of \(archived)"
                }
                throw ReconcileError("\(task.channel) \(task.day): \(error)\(file)", retryable: false)
            }
            try lines.checked()
            try legs.checked()
            for item in carried.remaining() { try writer.write(item, window: task.window) }
            try spool.finish()
            return Decided(
                task: task, spool: spoolPath, items: spool.rows, priorDigest: priorDigest,
                resolutions: writer.resolutions, counts: writer.counts, amounts: writer.amounts)
        }
    }

    /// The shard's results land: its rows of the day replaced (rows of keys it no longer has are
    /// deleted, changed ones updated, equal ones left alone), the day before's carried rows marked
    /// with where they were resolved, and the run recorded. Refused, to be run again, when the day
    /// before's carried items changed since `decide` read them.
    /// The channel-day rows of `day` and the day before, which a shard's completion holds and
    /// finalize updates. `run_day` inserts them when it enqueues the chain (see DayGraph); a shard
    /// enqueued any other way inserts them itself.
    static func ensureChannelDays(channel: String, day: LocalDay, on connection: PGConnection) throws {
        _ = try connection.query(
            "INSERT INTO recon_channel_days (channel, bill_date) VALUES ($1, $2), ($1, $3) ON CONFLICT DO NOTHING",
            [channel, day.pgDate, day.previous.pgDate], name: "reconcile: channel days")
    }

    public static func commit(_ decided: Decided, jobID: Int64, on connection: PGConnection) throws {
        let task = decided.task
        try ensureChannelDays(channel: task.channel, day: task.day, on: connection)
        // The finalize of the day before updates this row: holding it shared until commit means
        // either that finalize sees this shard's run, or this shard sees what it changed.
        _ = try connection.query(
            "SELECT 1 FROM recon_channel_days WHERE channel = $1 AND bill_date = $2 FOR SHARE",
            [task.channel, task.day.previous.pgDate], name: "reconcile: hold the day before")
        let digest =
            try connection.query(CarryDigest.sql, task.priorParameters, name: "prior carry digest")
            .first?.decode(String.self, at: 0) ?? ""
        guard digest == decided.priorDigest else {
            throw ReconcileError(
                "\(task.channel) \(task.day.previous) changed while shard \(task.range) of \(task.day) ran; "
                    + "running the shard again")
        }
        try connection.execute(
            script: """
                CREATE TEMP TABLE shard_results (
                    channel text COLLATE "C", bill_date date, channel_txn_id text COLLATE "C",
                    match_refund_key text COLLATE "C", lane bigint, key_hash bigint, status text, carried_from date,
                    line_no bigint, channel_amount_fen bigint, channel_fee_fen bigint, channel_moved bigint,
                    channel_time timestamptz, leg_id text, internal_amount_fen bigint, internal_fee_fen bigint,
                    leg_status text, business_system text, merchant_id text, occurred_at timestamptz
                ) ON COMMIT DROP
                """, name: "reconcile: result table")
        try ResultSpool.copy(decided.spool, into: "shard_results", columns: ResultWriter.columns, on: connection)
        // A temporary table has no statistics until analyzed: without them the planner may take the
        // anti-join below for a nested loop over every row.
        try connection.execute(script: "ANALYZE shard_results", name: "analyze shard_results")
        _ = try connection.query(
            """
            DELETE FROM recon_results r
            WHERE r.channel = $1 AND r.bill_date = $2 AND r.key_hash BETWEEN $3 AND $4
              AND NOT EXISTS (SELECT 1 FROM shard_results s WHERE s.channel_txn_id = r.channel_txn_id
                              AND s.match_refund_key = r.match_refund_key AND s.lane = r.lane)
            """, task.parameters, name: "reconcile: rows no longer there")
        let select = ResultWriter.columns.map {
            switch $0 {
            case "lane": "lane::smallint"
            case "channel_moved": "channel_moved = 1"
            default: $0
            }
        }
        _ = try connection.query(
            ChangedRowsUpsert.sql(
                into: "recon_results", columns: ResultWriter.columns, select: select, from: "shard_results",
                key: ["channel", "bill_date", "channel_txn_id", "match_refund_key", "lane"],
                alsoSet: [
                    "resolved_on = CASE WHEN EXCLUDED.status = 'carried_over' THEN t.resolved_on END",
                    "resolved_status = CASE WHEN EXCLUDED.status = 'carried_over' THEN t.resolved_status END",
                ]), name: "reconcile: upsert results")
        if !decided.resolutions.isEmpty {
            _ = try connection.query(
                """
                UPDATE recon_results r SET resolved_on = $3, resolved_status = x.status
                FROM unnest($4::text[], $5::text[], $6::int8[], $7::text[]) AS x(txn, refund_key, lane, status)
                WHERE r.channel = $1 AND r.bill_date = $2 AND r.channel_txn_id = x.txn
                  AND r.match_refund_key = x.refund_key AND r.lane = x.lane AND r.status = 'carried_over'
                """,
                [
                    task.channel, task.day.previous.pgDate, task.day.pgDate,
                    PGArray(decided.resolutions.map(\.key.transactionID)),
                    PGArray(decided.resolutions.map(\.key.refundID)), PGArray(decided.resolutions.map(\.lane)),
                    PGArray(decided.resolutions.map(\.status.rawValue)),
                ], name: "reconcile: resolve the day before's carried items")
        }
        _ = try connection.query(
            """
            INSERT INTO recon_shard_runs (channel, bill_date, shard, shards, prior_digest, items, job_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (channel, bill_date, shard, shards) DO UPDATE SET
                prior_digest = EXCLUDED.prior_digest, items = EXCLUDED.items, job_id = EXCLUDED.job_id,
                finished_at = now()
            """,
            [
                task.channel, task.day.pgDate, task.range.shard, task.range.shards, decided.priorDigest, decided.items,
                jobID,
            ], name: "reconcile: record the shard's run")
    }
}
