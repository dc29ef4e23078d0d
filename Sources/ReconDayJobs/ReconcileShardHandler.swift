import Foundation
import Logging
public import ReconConfig
import ReconCore
import ReconJobs
import ReconMatching
import ReconMetrics
import ReconReconcile
public import ReconWorker

/// The `reconcile` job: `{"channel", "date", "shard", "shards"}`. Decides the shard on a
/// read-only connection into a spool file, then commits it in its own fenced transaction.
public struct ReconcileShardHandler: JobHandler {
    public let channels: [ChannelDefinition]
    public let folders: DayFolders
    /// Fault injection for tests: a wait between deciding and committing, so that a worker can be
    /// killed while it holds decided, uncommitted results (`RECON_FAULT_SHARD_PAUSE_MS`).
    public let pauseBeforeCommit: Duration?

    public init(channels: [ChannelDefinition], folders: DayFolders, pauseBeforeCommit: Duration? = nil) {
        self.channels = channels
        self.folders = folders
        self.pauseBeforeCommit = pauseBeforeCommit
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let kind = DayGraph.reconcile
        context.timeDayStage(kind)
        let arguments = try DayJobArguments.decode(context, kind: kind)
        let channel = try arguments.channel(in: channels, kind)
        let day = try arguments.day(kind)
        let shards = try arguments.number(arguments.shards, "shards", kind)
        let shard = try arguments.number(arguments.shard, "shard", kind)
        guard shards >= 1, shard < shards else {
            throw JobFailure("reconcile shard \(shard) of \(shards) does not exist", retryable: false)
        }
        let task = ShardTask(
            channel: channel.name, day: day, range: ShardRange(shard: shard, of: shards), timeZone: channel.timeZone,
            windowMilliseconds: channel.carryOverWindowMilliseconds)
        let spool = "\(folders.work)/reconcile/\(channel.name)/\(day)/job-\(context.job.id)-\(context.job.token).copy"
        context.cleanup.add { try? FileManager.default.removeItem(atPath: spool) }
        let decided = try await context.reads.withConnection { connection in
            try failingAsJob { try ShardReconciler.decide(task, spoolPath: spool, on: connection) }
        }
        context.logger.info(
            "shard decided",
            metadata: [
                "recon.shard": "\(task.range)", "recon.items": "\(decided.items)",
                "recon.discrepancies": "\(decided.counts.filter { $0.key.isDiscrepancy }.values.reduce(0, +))",
            ])
        // What the shard decided counts once its results have landed, not before.
        context.committed.add {
            for (status, items) in decided.counts {
                ReconMetrics.reconciled(
                    channel: task.channel, status: status.rawValue, items: items,
                    amountFen: decided.amounts[status] ?? 0)
            }
        }
        if let pauseBeforeCommit { try await Task.sleep(for: pauseBeforeCommit) }
        let jobID = context.job.id
        return .completeAlone { connection in
            try failingAsJob { try ShardReconciler.commit(decided, jobID: jobID, on: connection) }
        }
    }
}
