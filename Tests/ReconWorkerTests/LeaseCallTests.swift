import Foundation
import Logging
import ReconCore
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Synchronization
import Testing

@testable import ReconWorker

/// Issue 11 through a real worker and coordinator on loopback: a lease answer lost after its
/// commit, and calls to the coordinator while every slot is busy downloading.
@Suite(.tags(.integration), .skippedWhenFast) struct LeaseCallTests {
    /// The coordinator commits a lease and the answer never reaches the worker (the connection is
    /// cut). The worker asks again with the same request id and gets the same jobs under the same
    /// tokens: every job completes once, on attempt 1, and the dropped answer ends acknowledged.
    @Test func aLeaseAnswerDroppedAfterItsCommitCostsNoAttemptAndNoJob() async throws {
        var registry = JobRegistry()
        registry.register("ok", TestHandler { _ in .complete(nil) })
        try await WorkerRig.run(registry: registry, dropLeaseAnswers: 1) { rig in
            let ids = try await rig.enqueue((0..<6).map { _ in NewJob(kind: "ok") })
            try await rig.until("every job completed") {
                var done = true
                for id in ids where try await rig.job(id).state != "completed" { done = false }
                return done
            }
            let dropper = try #require(rig.dropper)
            let dropped = dropper.dropped
            #expect(dropped.count == 1)
            let request = try #require(dropped.first)
            #expect(!request.jobs.isEmpty)
            for id in ids { #expect(try await rig.job(id) == ("completed", 1)) }
            // Each dropped job completed under the token of the dropped answer: no second lease.
            for job in request.jobs {
                let token = try await rig.pool.query("SELECT lease_token FROM recon_jobs WHERE id = $1", [job.id])
                    .first?.decode(Int64.self, at: 0)
                #expect(token == job.token)
            }
            try await rig.until("the dropped answer is acknowledged") {
                try await rig.pool.query(
                    "SELECT 1 FROM recon_lease_requests WHERE request_id = $1 AND acknowledged_at IS NOT NULL",
                    [request.request]
                ).rows.count == 1
            }
            #expect(rig.workerLog.lines.contains { $0.message.contains("lease call failed") })
        }
    }
}
