import Logging
public import ReconConfig
import ReconCore
import ReconJobs
import ReconReconcile
public import ReconWorker

/// The `finalize` job: `{"channel", "date", "shards"}`, after every shard of the channel-day.
/// Writes the summary and, when the next day read an older carried-over state of this one,
/// enqueues the next day's shards, finalize and settle again, in the same fenced transaction.
public struct FinalizeHandler: JobHandler {
    public let channels: [ChannelDefinition]

    public init(channels: [ChannelDefinition]) { self.channels = channels }

    public func run(_ context: JobContext) async throws -> JobResult {
        let kind = DayGraph.finalize
        context.timeDayStage(kind)
        let arguments = try DayJobArguments.decode(context, kind: kind)
        let channel = try arguments.channel(in: channels, kind)
        let day = try arguments.day(kind)
        let shards = try arguments.number(arguments.shards, "shards", kind)
        guard shards >= 1 else { throw JobFailure("finalize needs at least one shard", retryable: false) }
        let jobID = context.job.id
        let logger = context.logger
        // A transaction of its own: aggregates over the day's rows are no reason to hold up other
        // jobs' completions.
        return .completeAlone { connection in
            try failingAsJob {
                let outcome = try ChannelDayFinalizer.finalize(
                    channel: channel.name, day: day, shards: shards, jobID: jobID, on: connection)
                if !outcome.staleNextDayShards.isEmpty {
                    let next = day.adding(days: 1)
                    let jobs = try DayGraph.rerun(channel: channel, day: next, after: jobID, on: connection)
                    logger.info(
                        "the next day read an older carried-over state; running it again",
                        metadata: ["recon.next_day": "\(next)", "recon.jobs": "\(jobs.count)"])
                }
            }
        }
    }
}
