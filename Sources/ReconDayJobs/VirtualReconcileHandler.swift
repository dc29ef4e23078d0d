import Foundation
import Logging
import ReconCore
import ReconJobs
import ReconReconcile
public import ReconWorker

/// The `reconcile_virtual` job: `{"date"}`. The virtual-account check of the day.
public struct VirtualReconcileHandler: JobHandler {
    public let folders: DayFolders

    public init(folders: DayFolders) { self.folders = folders }

    public func run(_ context: JobContext) async throws -> JobResult {
        let kind = DayGraph.reconcileVirtual
        context.timeDayStage(kind)
        let day = try DayJobArguments.decode(context, kind: kind).day(kind)
        let spool = "\(folders.work)/virtual/\(day)/job-\(context.job.id)-\(context.job.token).copy"
        context.cleanup.add { try? FileManager.default.removeItem(atPath: spool) }
        let decided = try await context.reads.withConnection { connection in
            try failingAsJob { try VirtualReconciler.decide(day: day, spoolPath: spool, on: connection) }
        }
        let jobID = context.job.id
        return .completeAlone { connection in
            try failingAsJob { try VirtualReconciler.commit(decided, jobID: jobID, on: connection) }
        }
    }
}
