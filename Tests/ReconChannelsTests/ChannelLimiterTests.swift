import Foundation
import ReconBillJobs
import ReconCalendar
import ReconChannels
import ReconConfig
import ReconCore
import ReconHTTP
import ReconJobs
import ReconMockChannel
import ReconPostgres
import ReconTestSupport
import Testing

/// The shared limits against a real cluster and real transfers.
@Suite(.tags(.integration), .skippedWhenFast) struct ChannelLimiterTests {
    static let day = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 21))

    /// A worker killed mid-download never frees its slot. The slot names the job lease it was
    /// taken under: while that lease holds (expired but not yet reaped included), the slot stays
    /// taken; once the reaper has returned the job the slot is free at once, an hour before its
    /// own expiry.
    @Test func aSlotWhoseJobLeaseIsGoneIsFreeAtOnce() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("limiterlease"), maxConnections: 3)
        defer { pool.close() }
        let job = try #require(
            try await pool.transaction { connection in
                _ = try JobLedger.enqueue([NewJob(kind: "fetch_bill")], on: connection)
                return try JobLedger.claim(
                    worker: "w1", queues: ["default"], limit: 1, leaseMilliseconds: 600_000, on: connection)
            }.first)
        let limits = ChannelLimits(concurrentRequests: 1, requestsPerSecond: 100)
        let dying = ChannelLimiter(pool: pool, lease: LeaseRef(id: job.id, token: job.token))
        // The killed worker's request: inside its permit, the slot is marked as it would be left
        // by a process that dies there (its release never runs), held for an hour.
        let held = try await dying.withPermit(
            channel: "narrow", limits: limits, holder: "w1/1/1", maxHoldMilliseconds: 1000
        ) {
            try await pool.query("SELECT job_id, lease_token FROM recon_channel_slots WHERE channel = 'narrow'").first
                .map { [try $0.decode(Int64.self, at: 0), try $0.decode(Int64.self, at: 1)] }
        }
        #expect(held == [job.id, job.token])
        try await pool.query(
            """
            UPDATE recon_channel_slots SET holder = 'w1/1/1', expires_at = now() + interval '1 hour', job_id = $1,
                lease_token = $2 WHERE channel = 'narrow'
            """, [job.id, job.token])

        func request(within limit: Duration) async -> Bool {
            let other = ChannelLimiter(pool: pool)
            let attempt = Task {
                try await other.withPermit(
                    channel: "narrow", limits: limits, holder: "w2/2/2", maxHoldMilliseconds: 60_000
                ) { true }
            }
            let bound = Task {
                try await Task.sleep(for: limit)
                attempt.cancel()
            }
            defer { bound.cancel() }
            return (try? await attempt.value) ?? false
        }
        // The lease still holds (the worker might only be slow): the slot is not taken from it.
        #expect(await request(within: .seconds(1)) == false)
        // The lease runs out, as it does a lease-length after the kill: until the reaper returns
        // the job, a late heartbeat could still revive it, so the slot stays taken.
        try await pool.query(
            "UPDATE recon_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [job.id])
        #expect(await request(within: .seconds(1)) == false)
        // The coordinator's reaper returns the job: the lease is gone, the slot free at once.
        let reaped = try await pool.transaction { connection in
            var random = SystemRandomNumberGenerator()
            return try JobLedger.reapExpired(limit: 10, on: connection, random: &random)
        }
        #expect(reaped.map(\.id) == [job.id])
        #expect(await request(within: .seconds(5)) == true)
    }

    /// A fetch cancelled while the server is still sending (lost lease, SIGTERM) gives its slot
    /// back at once: the row is free when the fetch returns, and the channel's one slot can be
    /// taken again without waiting for the expiry (minutes away).
    @Test func cancelledFetchReleasesItsSlot() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("limiter"), maxConnections: 4)
        defer { pool.close() }
        // 64 bytes a second: the bill takes minutes to arrive.
        let trickle = Fault(channel: "bank", date: Self.day.description, kind: .slow, times: 0, argument: 64)
        try await withMockChannel(faults: [trickle]) { mock in
            let channel = try mock.bankChannel(name: "narrow", concurrentRequests: 1)
            let limiter = ChannelLimiter(pool: pool)
            let session = mock.session(channel, day: Self.day, limiter: limiter)
            let fetch = Task {
                try await session.downloadFile(
                    step: "download", HTTPRequest(url: mock.bankURL(Self.day)), name: "bill", maxBytes: 1 << 20)
            }
            func heldSlots() async throws -> Int64 {
                try await pool.query(
                    "SELECT count(*) FROM recon_channel_slots WHERE channel = 'narrow' AND holder IS NOT NULL"
                ).first?.decode(Int64.self, at: 0) ?? -1
            }
            // Mid-body: the slot taken and bytes on disk.
            let partial = session.workFolder + "/bill.part"
            try await eventually("the download is under way", timeout: .seconds(20)) {
                let bytes =
                    (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? NSNumber)?.intValue ?? 0
                return try await heldSlots() == 1 && bytes > 0
            }
            #expect(mock.server.stats.snapshot.inFlight["bank"] == 1)

            fetch.cancel()
            let outcome = await fetch.result
            #expect(throws: ChannelError.transient("download: cancelled")) { try outcome.get() }
            #expect(try await heldSlots() == 0)

            // The one slot is free: a second request gets it now, not when the first one's expiry passes.
            let clock = ContinuousClock()
            let started = clock.now
            let second = Task {
                try await limiter.withPermit(
                    channel: "narrow", limits: channel.limits, holder: "second", maxHoldMilliseconds: 60_000
                ) { clock.now }
            }
            let bound = Task {
                try await Task.sleep(for: .seconds(10))
                second.cancel()
            }
            defer { bound.cancel() }
            let granted = try await second.value
            #expect(granted - started < .seconds(5))
        }
    }
}
