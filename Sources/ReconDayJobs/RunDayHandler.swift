import Logging
public import ReconConfig
import ReconCore
import ReconJobs
import ReconReconcile
public import ReconWorker

/// The `run_day` job: `{"date"}` (the daily schedule fires it for yesterday). Enqueues the day's
/// graph (`DayGraph`) in its fenced completion, so a retried run_day adds nothing twice.
public struct RunDayHandler: JobHandler {
    public let channels: [ChannelDefinition]

    public init(channels: [ChannelDefinition]) { self.channels = channels }

    public func run(_ context: JobContext) async throws -> JobResult {
        let kind = DayGraph.runDay
        context.timeDayStage(kind)
        let day = try DayJobArguments.decode(context, kind: kind).day(kind)
        let channels = channels
        let run = context.job.id
        return .complete { connection in
            _ = try failingAsJob { try DayGraph.enqueueDay(day, channels: channels, run: run, on: connection) }
        }
    }
}

extension JobRegistry {
    /// The day's job kinds, for a worker that reads `channels` from its job files.
    public mutating func registerDayJobs(
        channels: [ChannelDefinition], folders: DayFolders, shardPauseBeforeCommit: Duration? = nil
    ) {
        register(DayGraph.runDay, RunDayHandler(channels: channels))
        register(
            DayGraph.reconcile,
            ReconcileShardHandler(channels: channels, folders: folders, pauseBeforeCommit: shardPauseBeforeCommit))
        register(DayGraph.finalize, FinalizeHandler(channels: channels))
        register(DayGraph.reconcileVirtual, VirtualReconcileHandler(folders: folders))
        register(DayGraph.settle, SettleHandler(channels: channels, folders: folders))
    }
}
