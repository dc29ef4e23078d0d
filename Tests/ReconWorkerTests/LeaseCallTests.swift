import Foundation
import Logging
import ReconCore
import ReconHTTP
import ReconJobs
import ReconMockChannel
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
        // Leases long enough that the worker's second ask lands before they expire even on a
        // loaded machine (an expired, never acknowledged lease would go back and be leased anew).
        try await WorkerRig.run(registry: registry, leaseMilliseconds: 30_000, dropLeaseAnswers: 1) { rig in
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

    /// More slots than the shared executor has threads (16), each downloading a bill that trickles
    /// for 15 s from the mock channel, with an 8 s lease: heartbeats run on threads of their own,
    /// so no lease expires and every job completes on its first attempt.
    /// (With the calls on the shared executor, every lease was lost, some twice.)
    @Test func heartbeatsStayOnTimeWhileEverySlotDownloadsATrickledBill() async throws {
        let folder = NSTemporaryDirectory() + "recon-trickle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let slots = 20
        // About 15 KB a bill at 1 KB/s: each download takes about 15 s, two leases of 8 s (long
        // enough that a loaded machine's late heartbeat still lands; downloads on the calls'
        // threads would hold them for the whole 15 s).
        let mock = MockChannelServer(
            configuration: .init(
                dataFolder: folder, linesPerDay: 120,
                faults: [Fault(channel: "bank", date: "2026-11-23", kind: .slow, times: 0, argument: 1024)]))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let mockLogger = {
            var logger = Logger(label: "mock")
            logger.logLevel = .critical
            return logger
        }()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { portSink.finish() }
                try await mock.run(logger: mockLogger) { port in
                    portSink.yield(port)
                    portSink.finish()
                }
            }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let url = "http://127.0.0.1:\(port)/bills/m001/20261123.csv"
            let durations = Mutex<[Duration]>([])
            var registry = JobRegistry()
            registry.register(
                "download",
                TestHandler { context in
                    // The shared executor, as fetch_bill's downloads use it.
                    let result = try await HTTPClient().download(
                        ReconHTTP.HTTPRequest(url: url), to: folder + "/bill-\(context.job.id).part")
                    guard result.isSuccess else { throw JobFailure("download failed: \(result)") }
                    durations.withLock { $0.append(result.duration) }
                    return .complete(nil)
                })
            try await WorkerRig.run(registry: registry, slots: slots, leaseMilliseconds: 8_000) { rig in
                let ids = try await rig.enqueue((0..<slots).map { _ in NewJob(kind: "download") })
                try await rig.until("every download completed", timeout: .seconds(150)) {
                    var done = true
                    for id in ids where try await rig.job(id).state != "completed" { done = false }
                    return done
                }
                for id in ids { #expect(try await rig.job(id) == ("completed", 1)) }
                let trickled = durations.withLock { $0 }
                #expect(trickled.count == slots)
                // Each download outlived a lease: only heartbeats kept it.
                #expect(trickled.allSatisfy { $0 > .seconds(9) }, "\(trickled)")
                let lost = rig.workerLog.lines.filter {
                    $0.metadata["job.outcome"] == "lease_lost" || $0.message.contains("heartbeat failed")
                }
                #expect(lost.isEmpty, "\(lost)")
                #expect(!rig.coordinatorLog.lines.contains { $0.message.contains("lease expired") })
            }
        }
    }
}
