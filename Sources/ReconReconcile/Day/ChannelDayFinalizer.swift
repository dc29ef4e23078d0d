public import ReconCore
import ReconJobs
public import ReconMatching
public import ReconPostgres

/// finalize(channel, D) (issue 12, §4), in the job's fenced completion: checks every shard of the
/// day committed, writes the day's summary per status, and records the day's carried-over state.
/// If the next day already reconciled against an older carried-over state of this day (its bill
/// came first, or this day was run again), returns the next day's shards to run again: the
/// caller enqueues them (`DayGraph.rerun`).
public enum ChannelDayFinalizer {
    public struct Outcome: Sendable, Equatable {
        /// Per status: count, channel amount, internal amount.
        public var summary: [MatchStatus: (Int64, Int64, Int64)]
        /// The next day's shards that read another carried-over state of this day than it has now.
        public var staleNextDayShards: [ShardRange]

        public static func == (lhs: Outcome, rhs: Outcome) -> Bool {
            lhs.staleNextDayShards == rhs.staleNextDayShards
                && lhs.summary.mapValues { [$0.0, $0.1, $0.2] } == rhs.summary.mapValues { [$0.0, $0.1, $0.2] }
        }
    }

    public static func finalize(
        channel: String, day: LocalDay, shards: Int, jobID: Int64, on connection: PGConnection
    ) throws -> Outcome {
        // Taking the day's row first orders this against the next day's shards committing (they hold
        // it shared): whichever commits second sees the other.
        _ = try connection.query(
            """
            INSERT INTO recon_channel_days (channel, bill_date, shards, finalized_at, finalize_job)
            VALUES ($1, $2, $3, now(), $4)
            ON CONFLICT (channel, bill_date) DO UPDATE SET
                shards = EXCLUDED.shards, finalized_at = EXCLUDED.finalized_at, finalize_job = EXCLUDED.finalize_job
            """, [channel, day.pgDate, shards, jobID], name: "finalize: the channel day")
        let done = Set(
            try connection.query(
                "SELECT shard FROM recon_shard_runs WHERE channel = $1 AND bill_date = $2 AND shards = $3",
                [channel, day.pgDate, shards], name: "finalize: shards done"
            ).rows.map { try $0.decode(Int64.self, at: 0) })
        let missing = (0..<shards).filter { !done.contains(Int64($0)) }
        guard missing.isEmpty else {
            throw ReconcileError(
                "\(channel) \(day): shards \(missing.map { "\($0)/\(shards)" }.joined(separator: ", ")) "
                    + "have not been reconciled")
        }
        // Runs under another shard count are superseded: their keys are covered by this count's.
        _ = try connection.query(
            "DELETE FROM recon_shard_runs WHERE channel = $1 AND bill_date = $2 AND shards <> $3",
            [channel, day.pgDate, shards], name: "finalize: superseded shard runs")
        let summary = try Summaries.replace(
            table: "recon_results", channelColumn: "$1::text",
            amountColumns: ("channel_amount_fen", "internal_amount_fen"),
            filter: "channel = $1 AND bill_date = $2", channel: channel, day: day, on: connection)
        let whole = ShardRange(shard: 0, of: 1)
        let digest = try CarryDigest.read(channel: channel, day: day, range: whole, on: connection)
        _ = try connection.query(
            "UPDATE recon_channel_days SET carry_digest = $3 WHERE channel = $1 AND bill_date = $2",
            [channel, day.pgDate, digest], name: "finalize: carry digest")
        var stale: [ShardRange] = []
        for run in try connection.query(
            """
            SELECT shard, shards, prior_digest FROM recon_shard_runs
            WHERE channel = $1 AND bill_date = $2 ORDER BY shards, shard
            """, [channel, day.adding(days: 1).pgDate], name: "finalize: the next day's shards"
        ).rows {
            let range = ShardRange(
                shard: Int(try run.decode(Int64.self, at: 0)), of: Int(try run.decode(Int64.self, at: 1)))
            let now = try CarryDigest.read(channel: channel, day: day, range: range, on: connection)
            if now != (try run.decode(String.self, at: 2)) { stale.append(range) }
        }
        return Outcome(summary: summary, staleNextDayShards: stale)
    }
}

/// The per-status summary rows of a channel-day or a virtual asset's day.
enum Summaries {
    static func replace(
        table: String, channelColumn: String, amountColumns: (String, String), filter: String, channel: String,
        day: LocalDay, on connection: PGConnection
    ) throws -> [MatchStatus: (Int64, Int64, Int64)] {
        _ = try connection.query(
            "DELETE FROM recon_summaries WHERE channel = $1 AND bill_date = $2", [channel, day.pgDate],
            name: "summary: clear")
        let rows = try connection.query(
            """
            INSERT INTO recon_summaries (channel, bill_date, status, items, channel_amount_fen, internal_amount_fen)
            SELECT \(channelColumn), $2, status, count(*), coalesce(sum(\(amountColumns.0)), 0),
                   coalesce(sum(\(amountColumns.1)), 0)
            FROM \(table) WHERE \(filter) GROUP BY 1, status
            RETURNING status, items, channel_amount_fen, internal_amount_fen
            """, [channel, day.pgDate], name: "summary: write")
        var summary: [MatchStatus: (Int64, Int64, Int64)] = [:]
        for row in rows.rows {
            guard let status = MatchStatus(rawValue: try row.decode(String.self, at: 0)) else { continue }
            summary[status] = (
                try row.decode(Int64.self, at: 1), try row.decode(Int64.self, at: 2), try row.decode(Int64.self, at: 3)
            )
        }
        return summary
    }
}
