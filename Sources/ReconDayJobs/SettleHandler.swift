import Logging
public import ReconConfig
import ReconCore
import ReconJobs
import ReconReconcile
public import ReconWorker

/// The `settle` job: `{"date"}`, after every channel of the day is finalized and the virtual
/// accounts are checked. Settlement rows and file, in the fenced completion.
public struct SettleHandler: JobHandler {
    public let channels: [ChannelDefinition]
    public let folders: DayFolders

    public init(channels: [ChannelDefinition], folders: DayFolders) {
        self.channels = channels
        self.folders = folders
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let kind = DayGraph.settle
        context.timeDayStage(kind)
        let day = try DayJobArguments.decode(context, kind: kind).day(kind)
        let names = channels.map(\.name)
        let folder = folders.settlements
        let waiting = try await context.reads.withConnection { try DaySettler.unfinishedWork(day: day, on: $0) }
        if waiting > 0 {
            context.logger.info("waiting for the day's reconcile work", metadata: ["recon.unfinished": "\(waiting)"])
            return .snooze(.seconds(2))
        }
        let jobID = context.job.id
        let logger = context.logger
        // A transaction of its own: aggregates over the day's rows are no reason to hold up other
        // jobs' completions.
        return .completeAlone { connection in
            let outcome = try failingAsJob {
                try DaySettler.settle(day: day, channels: names, folder: folder, jobID: jobID, on: connection)
            }
            logger.info(
                "day settled",
                metadata: [
                    "recon.rows": "\(outcome.rows.count)", "recon.discrepancies": "\(outcome.discrepancies)",
                    "recon.file": "\(outcome.file ?? "-")",
                ])
        }
    }
}
