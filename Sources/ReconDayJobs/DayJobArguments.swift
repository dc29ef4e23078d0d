import Foundation
import Logging
import ReconConfig
import ReconCore
import ReconJobs
import ReconReconcile
import ReconWorker

/// What the day's job kinds are given (`DayGraph` writes them): a channel, a date, and for a
/// reconcile shard its number and the shard count.
struct DayJobArguments: Decodable {
    var channel: String?
    var date: String
    var shard: String?
    var shards: String?

    static func decode(_ context: JobContext, kind: String) throws -> DayJobArguments {
        do {
            return try JSONDecoder().decode(DayJobArguments.self, from: Data(context.job.args.utf8))
        } catch {
            throw JobFailure("\(kind) arguments must be {\"date\": \"YYYY-MM-DD\", …}", retryable: false)
        }
    }

    func day(_ kind: String) throws -> LocalDay {
        guard let day = LocalDay(date) else {
            throw JobFailure("\(kind) date \(date) is not YYYY-MM-DD", retryable: false)
        }
        return day
    }

    func channel(in channels: [ChannelDefinition], _ kind: String) throws -> ChannelDefinition {
        guard let name = channel else { throw JobFailure("\(kind) needs a channel", retryable: false) }
        guard let definition = channels.first(where: { $0.name == name }) else {
            // Retryable: during a rollout another worker may already have the new job file.
            throw JobFailure("no channel named \(name) in this worker's job files", retryable: true)
        }
        return definition
    }

    func number(_ text: String?, _ name: String, _ kind: String) throws -> Int {
        guard let text, let value = Int(text), value >= 0 else {
            throw JobFailure("\(kind) needs \(name) as a whole number", retryable: false)
        }
        return value
    }
}

extension ReconcileError {
    var jobFailure: JobFailure { JobFailure(description, retryable: retryable) }
}

/// Turns a `ReconcileError` into the job failure it stands for; anything else passes as it is.
func failingAsJob<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ReconcileError {
        throw error.jobFailure
    }
}

/// Where the day's jobs keep files: result spools until their completion, settlement files.
public struct DayFolders: Sendable {
    /// Spools of decided results, removed once the job's outcome is settled.
    public var work: String
    /// Where settle(D) writes `settlement-D.csv`; nil writes settlement rows only.
    public var settlements: String?

    public init(work: String, settlements: String?) {
        self.work = work
        self.settlements = settlements
    }
}
