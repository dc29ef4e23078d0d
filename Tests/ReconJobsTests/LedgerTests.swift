import ReconCore
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Testing

/// A deterministic generator, so backoff draws can be checked against the formula.
struct CountingGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func ledger() async throws -> PGPool {
    PGPool(connectionString: try await TestPostgres.migratedDatabase("jobs"), maxConnections: 4)
}

func claim(
    _ pool: PGPool, worker: String = "w1", queues: [String] = ["default"], limit: Int = 10, leaseMs: Int64 = 30_000
)
    async throws -> [LeasedJob]
{
    try await pool.transaction { connection in
        try JobLedger.claim(worker: worker, queues: queues, limit: limit, leaseMilliseconds: leaseMs, on: connection)
    }
}

func state(_ pool: PGPool, _ id: Int64) async throws -> String? {
    try await pool.query("SELECT state FROM recon_jobs WHERE id = $1", [id]).first?.decode(String.self, at: 0)
}

@Suite struct LedgerTests {
    @Test func uniqueKeysDeduplicateAcrossAndWithinBatches() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let first = try await pool.transaction { connection in
            try JobLedger.enqueue(
                [
                    NewJob(kind: "reconcile", uniqueKey: "reconcile:alipay:2026-11-23:0/8"),
                    NewJob(kind: "reconcile", uniqueKey: "reconcile:alipay:2026-11-23:1/8"),
                    NewJob(kind: "reconcile", uniqueKey: "reconcile:alipay:2026-11-23:0/8"),
                    NewJob(kind: "noop"),
                ], on: connection)
        }
        #expect(first.map(\.inserted) == [true, true, false, true])
        #expect(first[0].id == first[2].id)
        let again = try await pool.transaction { connection in
            try JobLedger.enqueue(
                [NewJob(kind: "reconcile", uniqueKey: "reconcile:alipay:2026-11-23:1/8")], on: connection)
        }
        #expect(again == [EnqueueResult(id: first[1].id, inserted: false)])
        #expect(try await pool.query("SELECT count(*) FROM recon_jobs").first?.decode(Int64.self, at: 0) == 3)
    }

    @Test func claimOrdersByPriorityThenRunAtThenIdAndFencesEachLease() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let ids = try await pool.transaction { connection in
            try JobLedger.enqueue(
                [
                    NewJob(kind: "a", priority: 2), NewJob(kind: "b", priority: 0), NewJob(kind: "c", priority: 1),
                    NewJob(kind: "later", runAt: PGTimestamp(microsecondsSince1970: 4_102_444_800_000_000)),
                    NewJob(kind: "other-queue", queue: "settle"),
                ], on: connection)
        }.map(\.id)
        let leased = try await claim(pool, limit: 10)
        #expect(leased.map(\.kind) == ["b", "c", "a"])
        #expect(Set(leased.map(\.token)).count == 3)
        #expect(leased.allSatisfy { $0.attempt == 1 })
        #expect(try await state(pool, ids[3]) == "scheduled")
        #expect(try await claim(pool, limit: 10).isEmpty)
        #expect(try await claim(pool, queues: ["settle"]).map(\.kind) == ["other-queue"])
    }

    @Test func completionIsFencedByTheToken() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        _ = try await pool.transaction { try JobLedger.enqueue([NewJob(kind: "probe")], on: $0) }
        let job = try #require(try await claim(pool).first)
        let stale = LeaseRef(id: job.id, token: job.token - 1)
        let refused = try await pool.transaction { try JobLedger.complete([stale], on: $0) }
        #expect(refused.completed.isEmpty && refused.lost == [job.id])
        #expect(try await state(pool, job.id) == "running")
        let accepted = try await pool.transaction {
            try JobLedger.complete([LeaseRef(id: job.id, token: job.token)], on: $0)
        }
        #expect(accepted.completed == [job.id])
        #expect(try await state(pool, job.id) == "completed")
        // Completing twice is refused: the lease ended with the first completion.
        let twice = try await pool.transaction {
            try JobLedger.complete([LeaseRef(id: job.id, token: job.token)], on: $0)
        }
        #expect(twice.lost == [job.id])
    }

    @Test func failuresBackOffByTheFormulaAndDieWithEveryError() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let policy = RetryPolicy(maxAttempts: 3, baseMilliseconds: 60_000, capMilliseconds: 100_000)
        let id = try await pool.transaction {
            try JobLedger.enqueue([NewJob(kind: "fetch_bill", retry: policy)], on: $0)
        }[0].id
        var expected = CountingGenerator(state: 7)
        var generator = CountingGenerator(state: 7)
        for attempt in 1...3 {
            // Make it due again so it can be claimed at once.
            try await pool.query("UPDATE recon_jobs SET run_at = now() WHERE id = $1", [id])
            let job = try #require(try await claim(pool).first)
            #expect(job.attempt == attempt)
            let before = PGTimestamp(
                microsecondsSince1970: try await pool.query("SELECT clock_timestamp()").first?
                    .decode(PGTimestamp.self, at: 0).microsecondsSince1970 ?? 0)
            let generatorCopy = generator
            let outcome = try await pool.transaction { connection in
                var local = generatorCopy
                let result = try JobLedger.fail(
                    LeaseRef(id: job.id, token: job.token), worker: "w1",
                    error: "HTTP 503 from channel (try \(attempt))",
                    retryable: true, on: connection, random: &local)
                return (result, local)
            }
            generator = outcome.1
            let after = PGTimestamp(
                microsecondsSince1970: try await pool.query("SELECT clock_timestamp()").first?
                    .decode(PGTimestamp.self, at: 0).microsecondsSince1970 ?? 0)
            if attempt < 3 {
                let delay = policy.delayMilliseconds(afterAttempt: attempt, using: &expected)
                #expect(delay <= policy.ceilingMilliseconds(afterAttempt: attempt))
                guard case .retryable(let runAt) = outcome.0 else {
                    Issue.record("attempt \(attempt) should be retryable, got \(outcome.0)")
                    return
                }
                // The run_at is the statement's now + the drawn delay: between the clock read
                // before the fail and the one after it, however long a loaded machine took.
                let start = runAt.microsecondsSince1970 - delay * 1000
                #expect(
                    start >= before.microsecondsSince1970 - 1000 && start <= after.microsecondsSince1970 + 1000,
                    "attempt \(attempt): run_at − \(delay) ms is outside the fail call")
            } else {
                #expect(outcome.0 == .dead)
            }
        }
        #expect(try await state(pool, id) == "dead")
        let errors = try await pool.query(
            "SELECT jsonb_array_length(errors), errors->2->>'error', errors->0->>'attempt' FROM recon_jobs WHERE id = $1",
            [id]
        ).first
        #expect(try errors?.decode(Int32.self, at: 0) == 3)
        #expect(try errors?.decode(String.self, at: 1) == "HTTP 503 from channel (try 3)")
        #expect(try errors?.decode(String.self, at: 2) == "1")
    }

    @Test func aPermanentFailureIsDeadAtOnce() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        _ = try await pool.transaction { try JobLedger.enqueue([NewJob(kind: "fetch_bill")], on: $0) }
        let job = try #require(try await claim(pool).first)
        let outcome = try await pool.transaction { connection in
            var generator = CountingGenerator(state: 1)
            return try JobLedger.fail(
                LeaseRef(id: job.id, token: job.token), worker: "w1", error: "40002 isv.invalid-signature",
                retryable: false, on: connection, random: &generator)
        }
        #expect(outcome == .dead)
    }

    @Test func snoozeAndReleaseUseNoAttempt() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let id = try await pool.transaction { try JobLedger.enqueue([NewJob(kind: "fetch_bill")], on: $0) }[0].id
        let first = try #require(try await claim(pool).first)
        let later = PGTimestamp(microsecondsSince1970: 4_102_444_800_000_000)
        let snoozed = try await pool.transaction {
            try JobLedger.reschedule(LeaseRef(id: id, token: first.token), runAt: later, on: $0)
        }
        #expect(snoozed == .done)
        #expect(try await state(pool, id) == "scheduled")
        try await pool.query("UPDATE recon_jobs SET run_at = now() WHERE id = $1", [id])
        let second = try #require(try await claim(pool).first)
        #expect(second.attempt == 1)
        let released = try await pool.transaction {
            try JobLedger.reschedule(LeaseRef(id: id, token: second.token), runAt: nil, on: $0)
        }
        #expect(released == .done)
        let third = try #require(try await claim(pool).first)
        #expect(third.attempt == 1)
        // The old tokens are dead.
        let stale = try await pool.transaction {
            try JobLedger.reschedule(LeaseRef(id: id, token: first.token), runAt: nil, on: $0)
        }
        #expect(stale == .leaseLost)
    }

    @Test func reaperReturnsExpiredLeasesAndKillsThePastMaxAttempts() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let ids = try await pool.transaction { connection in
            try JobLedger.enqueue(
                [
                    NewJob(kind: "a", retry: RetryPolicy(maxAttempts: 5, baseMilliseconds: 0, capMilliseconds: 0)),
                    NewJob(kind: "b", retry: RetryPolicy(maxAttempts: 1)),
                ], on: connection)
        }.map(\.id)
        let leased = try await claim(pool, leaseMs: 1)
        #expect(leased.count == 2)
        try await Task.sleep(for: .milliseconds(20))
        let reaped = try await pool.transaction { connection in
            var generator = CountingGenerator(state: 3)
            return try JobLedger.reapExpired(limit: 100, on: connection, random: &generator)
        }
        #expect(reaped == 2)
        #expect(try await state(pool, ids[0]) == "retryable")
        #expect(try await state(pool, ids[1]) == "dead")
        let error = try await pool.query("SELECT errors->0->>'error' FROM recon_jobs WHERE id = $1", [ids[1]]).first?
            .decode(String.self, at: 0)
        #expect(error?.contains("lease expired: worker w1") == true)
        // The retryable one (zero backoff) is leased again, as attempt 2.
        let again = try await claim(pool)
        #expect(again.map(\.id) == [ids[0]])
        #expect(again.first?.attempt == 2)
    }

    @Test func dependenciesHoldUntilAllCompleteAndADeadOneKeepsHolding() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let upstream = try await pool.transaction { connection in
            try JobLedger.enqueue([NewJob(kind: "fetch_bill"), NewJob(kind: "fetch_bill")], on: connection)
        }.map(\.id)
        let settle = try await pool.transaction { connection in
            try JobLedger.enqueue([NewJob(kind: "settle", dependsOn: upstream)], on: connection)
        }[0].id
        #expect(try await state(pool, settle) == "pending")
        let leased = try await claim(pool, limit: 10)
        #expect(Set(leased.map(\.id)) == Set(upstream))
        _ = try await pool.transaction {
            try JobLedger.complete([LeaseRef(id: leased[0].id, token: leased[0].token)], on: $0)
        }
        #expect(try await state(pool, settle) == "pending")
        _ = try await pool.transaction { connection in
            var generator = CountingGenerator(state: 9)
            return try JobLedger.fail(
                LeaseRef(id: leased[1].id, token: leased[1].token), worker: "w1", error: "bad bill", retryable: false,
                on: connection, random: &generator)
        }
        #expect(try await state(pool, settle) == "pending")
        // An operator retries the dead one; when it completes, the dependant is released.
        _ = try await pool.transaction { try JobLedger.retry(leased[1].id, on: $0) }
        let retried = try #require(try await claim(pool).first)
        #expect(retried.id == leased[1].id)
        _ = try await pool.transaction {
            try JobLedger.complete([LeaseRef(id: retried.id, token: retried.token)], on: $0)
        }
        #expect(try await state(pool, settle) == "available")
    }

    @Test func concurrentCompletionsOfTwoDependenciesReleaseTheDependant() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        for _ in 0..<20 {
            let upstream = try await pool.transaction { connection in
                try JobLedger.enqueue(
                    [NewJob(kind: "x", queue: "race"), NewJob(kind: "y", queue: "race")], on: connection)
            }.map(\.id)
            let down = try await pool.transaction {
                try JobLedger.enqueue([NewJob(kind: "z", queue: "after", dependsOn: upstream)], on: $0)
            }[0].id
            let leased = try await claim(pool, queues: ["race"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for job in leased {
                    group.addTask {
                        _ = try await pool.transaction {
                            try JobLedger.complete([LeaseRef(id: job.id, token: job.token)], on: $0)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await state(pool, down) == "available")
            _ = try await claim(pool, queues: ["after"])
        }
    }

    @Test func cancelledRunningJobLosesItsLease() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        _ = try await pool.transaction { try JobLedger.enqueue([NewJob(kind: "reconcile")], on: $0) }
        let job = try #require(try await claim(pool).first)
        #expect(try await pool.transaction { try JobLedger.cancel(job.id, on: $0) } == .running)
        let lost = try await pool.transaction {
            try JobLedger.heartbeat([LeaseRef(id: job.id, token: job.token)], leaseMilliseconds: 30_000, on: $0)
        }
        #expect(lost == [job.id])
        await #expect(throws: JobError.self) { try await pool.transaction { try JobLedger.cancel(job.id, on: $0) } }
    }

    @Test func pruneKeepsWhatAPendingJobStillWaitsOn() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let ids = try await pool.transaction { connection in
            try JobLedger.enqueue(
                [NewJob(kind: "old"), NewJob(kind: "needed"), NewJob(kind: "blocker")], on: connection)
        }.map(\.id)
        _ = try await pool.transaction {
            try JobLedger.enqueue([NewJob(kind: "waits", dependsOn: [ids[1], ids[2]])], on: $0)
        }
        try await pool.query(
            "UPDATE recon_jobs SET state = 'completed', finalized_at = now() - interval '40 days' WHERE id = ANY($1::int8[])",
            [PGArray([ids[0], ids[1]])])
        let pruned = try await pool.withConnection {
            try JobLedger.prune(olderThanMilliseconds: 30 * 86_400_000, on: $0)
        }
        #expect(pruned == 1)
        #expect(try await state(pool, ids[0]) == nil)
        #expect(try await state(pool, ids[1]) == "completed")
    }

    @Test func retryingACancelledWaitingJobPutsItBackToWait() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let upstream = try await pool.transaction { try JobLedger.enqueue([NewJob(kind: "fetch_bill")], on: $0) }[0].id
        let waiting = try await pool.transaction {
            try JobLedger.enqueue([NewJob(kind: "reconcile", dependsOn: [upstream, upstream])], on: $0)
        }[0].id
        _ = try await pool.transaction { try JobLedger.cancel(waiting, on: $0) }
        #expect(try await pool.transaction { try JobLedger.retry(waiting, on: $0) } == .cancelled)
        #expect(try await state(pool, waiting) == "pending")
        let job = try #require(try await claim(pool).first)
        #expect(job.id == upstream)
        _ = try await pool.transaction { try JobLedger.complete([LeaseRef(id: job.id, token: job.token)], on: $0) }
        #expect(try await state(pool, waiting) == "available")
    }

    @Test func aJobWaitingOnHundredsIsReleasedByTheLastCompletion() async throws {
        let pool = try await ledger()
        defer { pool.close() }
        let shards = try await pool.transaction { connection in
            try JobLedger.enqueue((0..<300).map { _ in NewJob(kind: "reconcile", queue: "shards") }, on: connection)
        }.map(\.id)
        let settle = try await pool.transaction {
            try JobLedger.enqueue([NewJob(kind: "settle", queue: "settle", dependsOn: shards)], on: $0)
        }[0].id
        let leased = try await claim(pool, queues: ["shards"], limit: 300)
        #expect(leased.count == 300)
        // Completed from 6 tasks at once, in batches of 10.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<6 {
                let mine = leased.enumerated().filter { $0.offset % 6 == part }.map(\.element)
                group.addTask {
                    for start in stride(from: 0, to: mine.count, by: 10) {
                        let batch = mine[start..<min(start + 10, mine.count)].map {
                            LeaseRef(id: $0.id, token: $0.token)
                        }
                        _ = try await pool.transaction { try JobLedger.complete(batch, on: $0) }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await state(pool, settle) == "available")
        #expect(
            try await pool.query("SELECT pending_dependencies FROM recon_jobs WHERE id = $1", [settle]).first?
                .decode(Int32.self, at: 0) == 0)
    }
}
