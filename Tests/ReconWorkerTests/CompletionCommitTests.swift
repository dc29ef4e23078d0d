import ReconJobs
import ReconPostgres
import ReconTestSupport
import Synchronization
import Testing

@testable import ReconWorker

/// Fenced completions against a throwaway cluster: a transient failure is committed again, a
/// permanent one keeps its word, and a job's failure undoes only that job.
@Suite(.tags(.integration), .skippedWhenFast) struct CompletionCommitTests {
    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func next() -> Int { value.add(1, ordering: .relaxed).newValue }
        var count: Int { value.load(ordering: .relaxed) }
    }

    static func leases(_ pool: PGPool, count: Int) async throws -> [LeaseRef] {
        let jobs = try await pool.transaction { connection in
            _ = try JobLedger.enqueue((0..<count).map { _ in NewJob(kind: "probe") }, on: connection)
            return try JobLedger.claim(
                worker: "w1", queues: ["default"], limit: count, leaseMilliseconds: 60_000, on: connection)
        }
        return jobs.map { LeaseRef(id: $0.id, token: $0.token) }.sorted { $0.id < $1.id }
    }

    static func recordRun(_ lease: LeaseRef, on connection: PGConnection) throws {
        try connection.query(
            "INSERT INTO recon_probe_runs (job_id, worker, lease_token) VALUES ($1, 'w1', $2)", [lease.id, lease.token])
    }

    /// Raises `sqlState` from the server, as a real deadlock or constraint would.
    static func raise(_ sqlState: String, on connection: PGConnection) throws {
        try connection.execute(script: "DO $$ BEGIN RAISE EXCEPTION 'on purpose' USING ERRCODE = '\(sqlState)'; END $$")
    }

    static func states(_ pool: PGPool, _ leases: [LeaseRef]) async throws -> [String] {
        try await pool.query(
            "SELECT state FROM recon_jobs WHERE id = ANY($1::int8[]) ORDER BY id", [PGArray(leases.map(\.id))]
        ).rows.map { try $0.decode(String.self, at: 0) }
    }

    static func runs(_ pool: PGPool) async throws -> Int64 {
        try await pool.query("SELECT count(*) FROM recon_probe_runs").first?.decode(Int64.self, at: 0) ?? -1
    }

    @Test func aDeadlockInAJobsWritesIsCommittedAgainAndCompletes() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("commit"), maxConnections: 2)
        defer { pool.close() }
        let leases = try await Self.leases(pool, count: 2)
        let tries = Counter()
        let victim = leases[0]
        let writes: JobWrites = { connection in
            if tries.next() == 1 { try Self.raise(PGError.deadlockDetected, on: connection) }
            try Self.recordRun(victim, on: connection)
        }
        let outcomes = await CompletionQueue.commit([(leases[0], writes), (leases[1], nil)], pool: pool)
        #expect(outcomes.map { $0.name } == ["completed", "completed"])
        #expect(tries.count == 2)
        #expect(try await Self.states(pool, leases) == ["completed", "completed"])
        #expect(try await Self.runs(pool) == 1)
    }

    /// Only the job that failed transiently is committed again: the other's writes, committed in
    /// the first transaction, run once.
    @Test func aSerializationFailureIsCommittedAgainAloneNotWithTheWholeBatch() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("commit"), maxConnections: 2)
        defer { pool.close() }
        let leases = try await Self.leases(pool, count: 2)
        let (first, second) = (leases[0], leases[1])
        let firstTries = Counter()
        let secondTries = Counter()
        let firstWrites: JobWrites = { connection in
            if firstTries.next() == 1 { try Self.raise(PGError.serializationFailure, on: connection) }
            try Self.recordRun(first, on: connection)
        }
        let secondWrites: JobWrites = { connection in
            _ = secondTries.next()
            try Self.recordRun(second, on: connection)
        }
        let outcomes = await CompletionQueue.commit([(first, firstWrites), (second, secondWrites)], pool: pool)
        #expect(outcomes.map { $0.name } == ["completed", "completed"])
        #expect(firstTries.count == 2 && secondTries.count == 1)
        #expect(try await Self.runs(pool) == 2)
    }

    @Test func aConstraintViolationIsNotCommittedAgainAndIsRetriedAsAJob() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("commit"), maxConnections: 2)
        defer { pool.close() }
        let leases = try await Self.leases(pool, count: 1)
        let tries = Counter()
        let writes: JobWrites = { connection in
            _ = tries.next()
            try Self.raise("23514", on: connection)
        }
        let outcome = try #require(await CompletionQueue.commit([(leases[0], writes)], pool: pool).first)
        #expect(outcome.name == "writesFailed")
        #expect(tries.count == 1)
        #expect(outcome.failure?.retryable == true)
        #expect(try await Self.states(pool, leases) == ["running"])
    }

    /// A `JobFailure(retryable: false)` from the writes comes back as thrown: its own writes and
    /// completion are undone, the other job in the batch completes, and the job is dead at once.
    @Test func aPermanentFailureInTheWritesUndoesOnlyThatJobAndKeepsItsWord() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("commit"), maxConnections: 2)
        defer { pool.close() }
        let leases = try await Self.leases(pool, count: 2)
        let tries = Counter()
        let refused = leases[0]
        let writes: JobWrites = { connection in
            _ = tries.next()
            try Self.recordRun(refused, on: connection)
            throw JobFailure("the bill contradicts its totals", retryable: false)
        }
        let good = leases[1]
        let goodWrites: JobWrites = { try Self.recordRun(good, on: $0) }
        let outcomes = await CompletionQueue.commit([(leases[0], writes), (leases[1], goodWrites)], pool: pool)
        #expect(outcomes.map { $0.name } == ["writesFailed", "completed"])
        guard case .writesFailed(let error) = outcomes[0] else { return }
        #expect((error as? JobFailure)?.retryable == false)
        #expect(outcomes[0].failure?.retryable == false)
        #expect(tries.count == 1)
        #expect(try await Self.states(pool, leases) == ["running", "completed"])
        #expect(try await Self.runs(pool) == 1)
    }

    @Test func aLostLeaseLandsNothing() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("commit"), maxConnections: 2)
        defer { pool.close() }
        let leases = try await Self.leases(pool, count: 1)
        _ = try await pool.transaction { try JobLedger.cancel(leases[0].id, on: $0) }
        let lease = leases[0]
        let writes: JobWrites = { try Self.recordRun(lease, on: $0) }
        let outcome = await CompletionQueue.commit([(lease, writes)], pool: pool)
        #expect(outcome.map { $0.name } == ["leaseLost"])
        #expect(try await Self.runs(pool) == 0)
    }

    /// A completion carrying another job's fencing token (issue 14's bad input): refused as a lost
    /// lease, its writes rolled back, and neither job touched; each job's own token still completes it.
    @Test func aCompletionWithAnotherJobsTokenLandsNothing() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("commit"), maxConnections: 2)
        defer { pool.close() }
        let leases = try await Self.leases(pool, count: 2)
        let crossed = LeaseRef(id: leases[0].id, token: leases[1].token)
        let writes: JobWrites = { try Self.recordRun(crossed, on: $0) }
        let outcome = await CompletionQueue.commit([(crossed, writes)], pool: pool)
        #expect(outcome.map { $0.name } == ["leaseLost"])
        #expect(try await Self.runs(pool) == 0)
        #expect(try await Self.states(pool, leases) == ["running", "running"])
        let own = await CompletionQueue.commit(
            leases.map { lease in (lease, { try Self.recordRun(lease, on: $0) } as JobWrites) }, pool: pool)
        #expect(own.map { $0.name } == ["completed", "completed"])
        #expect(try await Self.runs(pool) == 2)
    }

    /// A handler's reads are read-only by construction: a write through `JobReads` fails with
    /// SQLSTATE 25006, in a statement or a transaction of its own, while `sideEffects` writes.
    @Test func aHandlersReadsCannotWrite() async throws {
        let database = try await TestPostgres.migratedDatabase("reads")
        let readPool = PGPool(connectionString: database, maxConnections: 1, readOnly: true)
        let pool = PGPool(connectionString: database, maxConnections: 1)
        defer {
            readPool.close()
            pool.close()
        }
        let reads = JobReads(pool: readPool)
        #expect(try await reads.query("SELECT count(*) FROM recon_jobs").first?.decode(Int64.self, at: 0) == 0)
        let insert = "INSERT INTO recon_probe_runs (job_id, worker, lease_token) VALUES (1, 'w1', 1)"
        let statement = await #expect(throws: PGError.self) { try await reads.query(insert) }
        #expect(statement?.sqlState == PGError.readOnlyTransaction)
        let transaction = await #expect(throws: PGError.self) {
            try await reads.withConnection { connection in try connection.transaction { try $0.query(insert) } }
        }
        #expect(transaction?.sqlState == PGError.readOnlyTransaction)
        try await pool.query(insert)
        #expect(try await reads.query("SELECT count(*) FROM recon_probe_runs").first?.decode(Int64.self, at: 0) == 1)
    }
}

extension CompletionOutcome {
    /// The case's name, for comparing outcomes in tests.
    var name: String {
        switch self {
        case .completed: return "completed"
        case .leaseLost: return "leaseLost"
        case .writesFailed: return "writesFailed"
        case .transactionFailed: return "transactionFailed"
        }
    }
}
