import Foundation
public import ReconConfig
public import ReconCore
public import ReconJobs
public import ReconPostgres

/// The job kinds of a business day and the graph that links them (issue 12, §4):
///
///     fetch_bill(channel, D) ─► reconcile(channel, D, shard i of n) ×n ─► finalize(channel, D) ─┐
///                                                                     reconcile_virtual(D) ────┼─► settle(D)
///
/// The days of a channel do not wait for each other: when D−1 finishes after D (its bill was late,
/// it ran beside D, or it was run again), its finalize notices the shards of D that read another
/// carried-over state of D−1 and enqueues them again with D's finalize and settle (`rerun`). A
/// dependency on D−1's finalize would do less work in that case, but a D−1 that never finishes
/// (a dead fetch) would then hold D, and every day after it, for ever.
public enum DayGraph {
    public static let runDay = "run_day"
    public static let reconcile = "reconcile"
    public static let finalize = "finalize"
    public static let reconcileVirtual = "reconcile_virtual"
    public static let settle = "settle"
    public static let fetchBill = "fetch_bill"

    /// The queue reconciliation and settlement run on (fetches run on their channel's queue).
    public static let queue = "default"
    static let retry = RetryPolicy(maxAttempts: 10, baseMilliseconds: 2_000, capMilliseconds: 5 * 60_000)

    public struct Enqueued: Sendable, Equatable {
        public var jobs: [Int64]
        public var settle: Int64
    }

    static func args(_ pairs: KeyValuePairs<String, String>) -> String {
        "{" + pairs.map { "\(json($0.key)): \(json($0.value))" }.joined(separator: ", ") + "}"
    }

    static func json(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Enqueues the whole day in the caller's transaction, each job under a unique key that names
    /// `run` (the run_day job's id): running the same run_day again adds nothing, a new run_day
    /// runs the day again.
    public static func enqueueDay(
        _ day: LocalDay, channels: [ChannelDefinition], run: Int64, on connection: PGConnection
    ) throws -> Enqueued {
        var all: [Int64] = []
        var finalizes: [Int64] = []
        for channel in channels {
            let fetch = try one(
                NewJob(
                    kind: fetchBill, queue: channel.queue, args: args(["channel": channel.name, "date": "\(day)"]),
                    retry: channel.retry, uniqueKey: "fetch_bill:\(channel.name):\(day):run\(run)"), on: connection)
            all.append(fetch)
            let chain = try enqueueChain(
                channel: channel, day: day, tag: "run\(run)", after: [fetch], on: connection)
            all += chain.jobs
            finalizes.append(chain.finalize)
        }
        let virtual = try one(
            NewJob(
                kind: reconcileVirtual, queue: queue, args: args(["date": "\(day)"]), retry: retry,
                uniqueKey: "reconcile_virtual:\(day):run\(run)"), on: connection)
        let settleJob = try one(
            NewJob(
                kind: settle, queue: queue, args: args(["date": "\(day)"]), retry: retry,
                uniqueKey: "settle:\(day):run\(run)", dependsOn: finalizes + [virtual]), on: connection)
        all += [virtual, settleJob]
        _ = try connection.query(
            """
            INSERT INTO recon_day_runs (run_id, bill_date, settle_job, jobs) VALUES ($1, $2, $3, $4::int8[])
            ON CONFLICT (run_id) DO NOTHING
            """, [run, day.pgDate, settleJob, PGArray(all)], name: "run_day: record the run")
        return Enqueued(jobs: all, settle: settleJob)
    }

    /// The shards of `channel`'s `day` again, its finalize and (when the day has been run) its
    /// settle: after the day before's carried-over items changed under them. Tagged with the
    /// finalize job that found them stale, so that finalize's retries add nothing more.
    public static func rerun(
        channel: ChannelDefinition, day: LocalDay, after finalizeJob: Int64, on connection: PGConnection
    ) throws -> [Int64] {
        let chain = try enqueueChain(
            channel: channel, day: day, tag: "after\(finalizeJob)", after: [], on: connection)
        var jobs = chain.jobs
        let wasRun =
            try connection.query(
                "SELECT 1 FROM recon_day_runs WHERE bill_date = $1 LIMIT 1", [day.pgDate], name: "rerun: day runs"
            ).rowCount > 0
        if wasRun {
            jobs.append(
                try one(
                    NewJob(
                        kind: settle, queue: queue, args: args(["date": "\(day)"]), retry: retry,
                        uniqueKey: "settle:\(day):after\(finalizeJob):\(channel.name)", dependsOn: [chain.finalize]),
                    on: connection))
        }
        return jobs
    }

    static func enqueueChain(
        channel: ChannelDefinition, day: LocalDay, tag: String, after upstream: [Int64], on connection: PGConnection
    ) throws -> (jobs: [Int64], finalize: Int64) {
        // The channel-day rows each shard's completion inserts (and holds the day before's shared),
        // committed here before any shard runs: otherwise, on a day's first run, every shard's
        // completion waits on the first one's uncommitted insert of the same row, and the shards'
        // result upserts run one after another.
        try ShardReconciler.ensureChannelDays(channel: channel.name, day: day, on: connection)
        var shards: [Int64] = []
        for shard in 0..<channel.shards {
            shards.append(
                try one(
                    NewJob(
                        kind: reconcile, queue: queue,
                        args: args([
                            "channel": channel.name, "date": "\(day)", "shard": "\(shard)",
                            "shards": "\(channel.shards)",
                        ]), retry: retry,
                        uniqueKey: "reconcile:\(channel.name):\(day):\(shard)/\(channel.shards):\(tag)",
                        dependsOn: upstream), on: connection))
        }
        let finalizeJob = try one(
            NewJob(
                kind: finalize, queue: queue,
                args: args(["channel": channel.name, "date": "\(day)", "shards": "\(channel.shards)"]), retry: retry,
                uniqueKey: "finalize:\(channel.name):\(day):\(tag)", dependsOn: shards), on: connection)
        return (shards + [finalizeJob], finalizeJob)
    }

    static func one(_ job: NewJob, on connection: PGConnection) throws -> Int64 {
        guard let result = try JobLedger.enqueue([job], on: connection).first else {
            throw ReconcileError("the \(job.kind) job was not enqueued")
        }
        return result.id
    }
}
