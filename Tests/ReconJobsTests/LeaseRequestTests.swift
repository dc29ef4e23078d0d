import ReconCore
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Testing

/// Issue 11 in the ledger: claims read only available rows (due ones promoted first), and lease
/// calls are idempotent by their request id, an answer never received costing no attempt.
@Suite(.tags(.integration), .skippedWhenFast) struct LeaseRequestTests {
    func claim(_ pool: PGPool, request: String, limit: Int = 10, leaseMs: Int64 = 30_000) async throws -> [LeasedJob] {
        try await pool.transaction { connection in
            try JobLedger.claim(
                worker: "w1", queues: ["default"], limit: limit, leaseMilliseconds: leaseMs, request: request,
                on: connection)
        }
    }

    func attempt(_ pool: PGPool, _ id: Int64) async throws -> Int? {
        try await pool.query("SELECT attempt FROM recon_jobs WHERE id = $1", [id]).first?.decode(Int.self, at: 0)
    }

    @Test func rowsWaitingForTheirTimeAreNotClaimedUntilDueAndThenAre() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let tomorrow = PGTimestamp(microsecondsSince1970: 4_102_444_800_000_000)
        let ids = try await pool.transaction { connection in
            try JobLedger.enqueue(
                [
                    NewJob(kind: "later", runAt: tomorrow),
                    NewJob(kind: "retry", retry: RetryPolicy(maxAttempts: 3, baseMilliseconds: 0, capMilliseconds: 0)),
                ], on: connection)
        }.map(\.id)
        // The retryable one fails with no backoff: retryable, due at once.
        let first = try #require(try await claim(pool, request: "r1").first)
        #expect(first.id == ids[1])
        _ = try await pool.transaction { connection in
            var random = SystemRandomNumberGenerator()
            return try JobLedger.fail(
                LeaseRef(id: ids[1], token: first.token), worker: "w1", error: "503", retryable: true,
                on: connection, random: &random)
        }
        #expect(try await state(pool, ids[1]) == "retryable")
        // The claim promotes the due row and leases it; the one due tomorrow stays scheduled.
        let second = try await claim(pool, request: "r2")
        #expect(second.map(\.id) == [ids[1]] && second.first?.attempt == 2)
        #expect(try await state(pool, ids[0]) == "scheduled")
        // Its time comes: promoted and leased by the next claim.
        try await pool.query("UPDATE recon_jobs SET run_at = now() - interval '1 second' WHERE id = $1", [ids[0]])
        #expect(try await claim(pool, request: "r3").map(\.id) == [ids[0]])
        // The claim reads an index of available rows only; due rows come through the run_at index.
        let plan = try await pool.query(
            """
            EXPLAIN SELECT id FROM recon_jobs WHERE state = 'available' AND queue = 'default'
            ORDER BY priority, run_at, id LIMIT 10 FOR UPDATE SKIP LOCKED
            """
        ).rows.map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
        #expect(plan.contains("recon_jobs_available"), "\(plan)")
    }

    @Test func aRepeatedRequestGetsTheSameJobsAndClaimsNoMore() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let ids = try await pool.transaction {
            try JobLedger.enqueue((0..<4).map { _ in NewJob(kind: "noop") }, on: $0)
        }.map(\.id)
        let first = try await claim(pool, request: "req-1", limit: 2)
        #expect(first.map(\.id) == Array(ids[0..<2]))
        // Asked again: the same jobs, tokens and attempts.
        let again = try await pool.transaction { try JobLedger.answer(to: "req-1", worker: "w1", on: $0) }
        #expect(again == first)
        // A claim under the same id (another coordinator, the first answer in flight) is refused
        // and its rows go back untouched when its transaction rolls back.
        await #expect(throws: LeaseRequestAnswered.self) { _ = try await claim(pool, request: "req-1", limit: 2) }
        #expect(try await state(pool, ids[2]) == "available")
        #expect(try await state(pool, ids[3]) == "available")
        // Another worker cannot take the answer.
        await #expect(throws: JobError.self) {
            _ = try await pool.transaction { try JobLedger.answer(to: "req-1", worker: "w2", on: $0) }
        }
        #expect(try await pool.transaction { try JobLedger.answer(to: "req-never", worker: "w1", on: $0) } == nil)
    }

    /// A lease whose answer never reached the worker (no acknowledgement, no heartbeat) goes back
    /// without using an attempt; an acknowledged or heartbeated one is failed by the reaper as usual.
    @Test func anAnswerNeverReceivedCostsNoAttempt() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let ids = try await pool.transaction {
            try JobLedger.enqueue((0..<3).map { _ in NewJob(kind: "noop") }, on: $0)
        }.map(\.id)
        let lost = try await claim(pool, request: "lost", limit: 1, leaseMs: 1)
        let acknowledged = try await claim(pool, request: "acked", limit: 1, leaseMs: 1)
        let beaten = try await claim(pool, request: "beaten", limit: 1, leaseMs: 200)
        #expect([lost, acknowledged, beaten].map { $0.map(\.id) } == [[ids[0]], [ids[1]], [ids[2]]])
        try await pool.transaction { try JobLedger.acknowledge(["acked"], worker: "w1", on: $0) }
        _ = try await pool.transaction { connection in
            try JobLedger.heartbeat(
                [LeaseRef(id: ids[2], token: beaten[0].token)], leaseMilliseconds: 1, on: connection)
        }
        try await Task.sleep(for: .milliseconds(30))
        let (released, reaped) = try await pool.transaction { connection in
            var random = SystemRandomNumberGenerator()
            let released = try JobLedger.releaseUnreceived(limit: 100, on: connection)
            return (released, try JobLedger.reapExpired(limit: 100, on: connection, random: &random))
        }
        #expect(released.map(\.id) == [ids[0]])
        #expect(released.first?.request == "lost" && released.first?.attempt == 1 && released.first?.worker == "w1")
        #expect(Set(reaped.map(\.id)) == [ids[1], ids[2]])
        #expect(try await state(pool, ids[0]) == "available")
        #expect(try await attempt(pool, ids[0]) == 0)
        #expect(try await attempt(pool, ids[1]) == 1)
        #expect(try await attempt(pool, ids[2]) == 1)
        // Leased again, it is attempt 1; the lost answer asked for again names none of it.
        let next = try await claim(pool, request: "next", limit: 1)
        #expect(next.map(\.id) == [ids[0]] && next.first?.attempt == 1)
        #expect(try await pool.transaction { try JobLedger.answer(to: "lost", worker: "w1", on: $0) } == [])
    }
}
