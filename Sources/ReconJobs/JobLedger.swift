import ReconCore
public import ReconPostgres

/// The job ledger's operations, each a few statements on a connection the caller holds (inside a
/// transaction where it says so). Coordinators and workers run these; PostgreSQL does the
/// coordinating: row locks with SKIP LOCKED for claiming and reaping, fencing tokens for every
/// change a worker asks for, unique keys for idempotent enqueue.
public enum JobLedger {
    /// The NOTIFY channel that says "jobs may be available in this queue" (payload: the queue).
    public static let notifyChannel = "recon_jobs"

    // MARK: Enqueue

    /// Adds jobs, in one transaction of the caller's. Jobs whose unique key exists already are not
    /// added; their result names the existing job. Wakes long-polling coordinators on commit.
    public static func enqueue(_ jobs: [NewJob], on connection: PGConnection) throws -> [EnqueueResult] {
        for job in jobs { try validate(job) }
        var results: [EnqueueResult] = []
        results.reserveCapacity(jobs.count)
        // Jobs without dependencies go in one statement; the rest one by one (a day's fan-out is small).
        let simple = jobs.enumerated().filter { $0.element.dependsOn.isEmpty }
        var byIndex: [Int: EnqueueResult] = [:]
        if !simple.isEmpty {
            let inserted = try insertBatch(simple.map(\.element), on: connection)
            for (offset, result) in inserted.enumerated() { byIndex[simple[offset].offset] = result }
        }
        for (index, job) in jobs.enumerated() where !job.dependsOn.isEmpty {
            byIndex[index] = try insertWithDependencies(job, on: connection)
        }
        for index in jobs.indices {
            guard let result = byIndex[index] else { throw JobError("job \(index) of the batch was not enqueued") }
            results.append(result)
        }
        for queue in Set(jobs.map(\.queue)) { try connection.notify(notifyChannel, payload: queue) }
        return results
    }

    static func validate(_ job: NewJob) throws {
        guard !job.kind.isEmpty, job.kind.utf8.count <= 200 else {
            throw JobError("a job's kind must be 1 to 200 bytes")
        }
        guard !job.queue.isEmpty, job.queue.utf8.count <= 200 else {
            throw JobError("a job's queue must be 1 to 200 bytes")
        }
        guard (0...Int(Int16.max)).contains(job.priority) else { throw JobError("priority must be 0 to 32767") }
        guard job.retry.maxAttempts > 0 else { throw JobError("max attempts must be at least 1") }
    }

    private static func insertBatch(_ jobs: [NewJob], on connection: PGConnection) throws -> [EnqueueResult] {
        // Ids are taken from the identity's sequence first, so each result is matched to its job by
        // id, not by the order of RETURNING (which PostgreSQL does not promise). Ids of jobs that
        // turn out to be duplicates are simply never used.
        let ids = try connection.query(
            "SELECT nextval(pg_get_serial_sequence('recon_jobs', 'id')) FROM generate_series(1, $1)", [jobs.count],
            name: "enqueue: take ids"
        ).rows.map { try $0.decode(Int64.self, at: 0) }
        guard ids.count == jobs.count else {
            throw JobError("the database gave \(ids.count) ids for \(jobs.count) jobs")
        }
        let rows = try connection.query(
            """
            INSERT INTO recon_jobs (id, kind, queue, args, priority, state, run_at, max_attempts,
                                    backoff_base_ms, backoff_cap_ms, unique_key)
            OVERRIDING SYSTEM VALUE
            SELECT id, kind, queue, args, priority, \(dueState(runAt: "run_at")),
                   run_at, max_attempts, base_ms, cap_ms, unique_key
            FROM unnest($1::int8[], $2::text[], $3::text[], $4::jsonb[], $5::smallint[], $6::timestamptz[], $7::int4[],
                        $8::int8[], $9::int8[], $10::text[])
                 AS j(id, kind, queue, args, priority, run_at, max_attempts, base_ms, cap_ms, unique_key)
            ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
            RETURNING id
            """,
            [
                PGArray(ids), PGArray(jobs.map(\.kind)), PGArray(jobs.map(\.queue)), PGArray(jobs.map(\.args)),
                PGArray(jobs.map(\.priority)), PGArray(jobs.map { $0.runAt?.description ?? "now" }),
                PGArray(jobs.map(\.retry.maxAttempts)), PGArray(jobs.map(\.retry.baseMilliseconds)),
                PGArray(jobs.map(\.retry.capMilliseconds)), PGArray(jobs.map(\.uniqueKey)),
            ], name: "enqueue jobs")
        let inserted = Set(try rows.rows.map { try $0.decode(Int64.self, at: 0) })
        // The rest lost to an existing job with the same unique key (or to an earlier one in this batch).
        let conflicting = zip(ids, jobs).filter { !inserted.contains($0.0) }.compactMap { $0.1.uniqueKey }
        var existingByKey: [String: Int64] = [:]
        if !conflicting.isEmpty {
            let existing = try connection.query(
                "SELECT unique_key, id FROM recon_jobs WHERE unique_key = ANY($1::text[])", [PGArray(conflicting)],
                name: "enqueue: find existing unique keys")
            for row in existing.rows { existingByKey[try row.decode(String.self, at: 0)] = try row.decode(at: 1) }
        }
        return try zip(ids, jobs).map { id, job in
            if inserted.contains(id) { return EnqueueResult(id: id, inserted: true) }
            guard let key = job.uniqueKey, let existing = existingByKey[key] else {
                throw JobError("job \(job.kind) was neither inserted nor found by its unique key")
            }
            return EnqueueResult(id: existing, inserted: false)
        }
    }

    private static func insertWithDependencies(_ job: NewJob, on connection: PGConnection) throws -> EnqueueResult {
        if let key = job.uniqueKey,
            let existing = try connection.query(
                "SELECT id FROM recon_jobs WHERE unique_key = $1", [key], name: "enqueue: find unique key"
            ).first
        {
            return EnqueueResult(id: try existing.decode(Int64.self, at: 0), inserted: false)
        }
        // Lock the upstream jobs so none completes between our look at them and our insert
        // (its completion would then miss this dependant).
        let upstream = try connection.query(
            "SELECT id, state FROM recon_jobs WHERE id = ANY($1::int8[]) ORDER BY id FOR SHARE",
            [PGArray(Array(Set(job.dependsOn)))], name: "enqueue: lock dependencies")
        let found = Set(try upstream.rows.map { try $0.decode(Int64.self, at: 0) })
        if let missing = job.dependsOn.first(where: { !found.contains($0) }) {
            throw JobError("job \(missing), which the new \(job.kind) job depends on, does not exist")
        }
        let incomplete = try upstream.rows.filter { try $0.decode(String.self, at: 1) != JobState.completed.rawValue }
            .count
        let row = try connection.query(
            """
            INSERT INTO recon_jobs (kind, queue, args, priority, state, run_at, max_attempts,
                                    backoff_base_ms, backoff_cap_ms, unique_key, pending_dependencies)
            VALUES ($1, $2, $3::jsonb, $4::smallint, \(waitingState(pending: "$5::int4", runAt: "$6::timestamptz")),
                    $6::timestamptz, $7, $8, $9, $10, $5::int4)
            ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
            RETURNING id
            """,
            [
                job.kind, job.queue, job.args, job.priority, Int32(incomplete), job.runAt?.description ?? "now",
                Int32(clamping: job.retry.maxAttempts), job.retry.baseMilliseconds, job.retry.capMilliseconds,
                job.uniqueKey,
            ], name: "enqueue job with dependencies")
        guard let inserted = row.first else {
            // Lost a race with another enqueue of the same key.
            let existing = try connection.query(
                "SELECT id FROM recon_jobs WHERE unique_key = $1", [job.uniqueKey], name: "enqueue: find unique key")
            guard let id = try existing.first?.decode(Int64.self, at: 0) else {
                throw JobError("unique key \(job.uniqueKey ?? "") neither inserted nor found")
            }
            return EnqueueResult(id: id, inserted: false)
        }
        let id = try inserted.decode(Int64.self, at: 0)
        try connection.query(
            """
            INSERT INTO recon_job_dependencies (job_id, depends_on_id)
            SELECT $1, unnest($2::int8[]) ON CONFLICT DO NOTHING
            """, [id, PGArray(job.dependsOn)], name: "enqueue: record dependencies")
        return EnqueueResult(id: id, inserted: true)
    }

    // MARK: Leasing

    /// Leases up to `limit` due jobs from `queues` to `worker` for `leaseMilliseconds`, in priority,
    /// run_at, id order. Each lease gets a fresh fencing token. Jobs other transactions hold are
    /// skipped, so coordinators claiming at once never lease one job twice.
    ///
    /// Rows whose time has come are first promoted to `available` (`promoteDue`), so the claim
    /// itself reads only the index of available rows, however many wait for a later time.
    ///
    /// With a `request` id, the jobs leased are recorded under it in this transaction (see
    /// `answer(to:worker:on:)`); when another transaction recorded that id first, this throws
    /// `LeaseRequestAnswered` and the caller rolls back and gives that answer instead.
    public static func claim(
        worker: String, queues: [String], limit: Int, leaseMilliseconds: Int64, request: String? = nil,
        on connection: PGConnection
    ) throws -> [LeasedJob] {
        guard limit > 0, !queues.isEmpty else { return [] }
        try promoteDue(on: connection)
        // One queue at a time, each with `queue = $1`, so the claim is an ordered scan of the
        // available index that stops after `limit` rows. (`queue = ANY($1)` would make PostgreSQL
        // sort every waiting job of those queues first.)
        var leased: [LeasedJob] = []
        for queue in queues where leased.count < limit {
            leased += try claim(
                worker: worker, queue: queue, limit: limit - leased.count, leaseMilliseconds: leaseMilliseconds,
                request: request, on: connection)
        }
        if let request, !leased.isEmpty {
            try record(request: request, worker: worker, leased: leased, on: connection)
        }
        return leased
    }

    /// Makes scheduled and retryable rows whose `run_at` has come available, a batch at a time,
    /// straight off the index on `run_at` (which holds only rows in those two states), so it costs
    /// the same with nothing due and a million rows waiting for tomorrow. Rows another transaction
    /// is promoting are skipped. Wakes the long-polls of the queues that got work.
    @discardableResult
    public static func promoteDue(limit: Int = 1000, on connection: PGConnection) throws -> Int {
        let rows = try connection.query(
            """
            WITH due AS (
                SELECT id FROM recon_jobs
                WHERE state IN ('scheduled', 'retryable') AND run_at <= now()
                ORDER BY run_at LIMIT $1
                FOR UPDATE SKIP LOCKED
            )
            UPDATE recon_jobs j SET state = 'available' FROM due WHERE j.id = due.id
            RETURNING j.queue
            """, [limit], name: "promote due jobs")
        for queue in Set(try rows.rows.map { try $0.decode(String.self, at: 0) }) {
            try connection.notify(notifyChannel, payload: queue)
        }
        return rows.rowCount
    }

    private static func claim(
        worker: String, queue: String, limit: Int, leaseMilliseconds: Int64, request: String?,
        on connection: PGConnection
    ) throws -> [LeasedJob] {
        let rows = try connection.query(
            """
            WITH picked AS (
                SELECT id FROM recon_jobs
                WHERE state = 'available' AND queue = $1
                ORDER BY priority, run_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED
            )
            UPDATE recon_jobs j
            SET state = 'running', attempt = j.attempt + 1, lease_owner = $3,
                lease_token = nextval('recon_lease_tokens'),
                lease_expires_at = clock_timestamp() + $4 * interval '1 millisecond',
                attempted_at = now(), heartbeat_at = now(), lease_request = $5
            FROM picked WHERE j.id = picked.id
            RETURNING j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts, j.lease_token,
                      j.lease_expires_at, j.priority, j.run_at
            """, [queue, limit, worker, leaseMilliseconds, request], name: "claim jobs")
        // RETURNING does not keep the ORDER BY; put the batch back in claim order.
        var leased: [(job: LeasedJob, priority: Int32, runAt: PGTimestamp)] = []
        for row in rows.rows {
            let job = LeasedJob(
                id: try row.decode(Int64.self, at: 0), kind: try row.decode(String.self, at: 1),
                queue: try row.decode(String.self, at: 2), args: try row.decode(String.self, at: 3),
                attempt: try row.decode(Int.self, at: 4), maxAttempts: try row.decode(Int.self, at: 5),
                token: try row.decode(Int64.self, at: 6),
                leaseExpiresAt: try row.decode(PGTimestamp.self, at: 7).microsecondsSince1970)
            leased.append((job, try row.decode(Int32.self, at: 8), try row.decode(PGTimestamp.self, at: 9)))
        }
        leased.sort { ($0.priority, $0.runAt, $0.job.id) < ($1.priority, $1.runAt, $1.job.id) }
        return leased.map(\.job)
    }

    /// Extends the leases that are still live; returns the ids whose lease was lost.
    public static func heartbeat(_ leases: [LeaseRef], leaseMilliseconds: Int64, on connection: PGConnection) throws
        -> [Int64]
    {
        guard !leases.isEmpty else { return [] }
        // Rows are locked in id order everywhere, so a heartbeat and a completion never deadlock.
        let leases = leases.sorted { $0.id < $1.id }
        let rows = try connection.query(
            """
            UPDATE recon_jobs j
            SET lease_expires_at = clock_timestamp() + $3 * interval '1 millisecond', heartbeat_at = now()
            FROM unnest($1::int8[], $2::int8[]) AS l(id, token)
            WHERE j.id = l.id AND j.lease_token = l.token AND j.state = 'running'
            RETURNING j.id
            """, [PGArray(leases.map(\.id)), PGArray(leases.map(\.token)), leaseMilliseconds], name: "heartbeat")
        let alive = Set(try rows.rows.map { try $0.decode(Int64.self, at: 0) })
        return leases.map(\.id).filter { !alive.contains($0) }
    }

    /// Marks jobs completed where their token still holds, and makes their dependants available
    /// when nothing else holds them. Call it inside the transaction that holds the jobs' own
    /// writes: a lease that was lost is returned, and the caller must then roll back that job's
    /// writes (the exactly-once rule).
    public static func complete(_ leases: [LeaseRef], on connection: PGConnection) throws -> (
        completed: [Int64], lost: [Int64]
    ) {
        guard !leases.isEmpty else { return ([], []) }
        let leases = leases.sorted { $0.id < $1.id }
        let rows = try connection.query(
            """
            UPDATE recon_jobs j SET state = 'completed', finalized_at = now()
            FROM unnest($1::int8[], $2::int8[]) AS l(id, token)
            WHERE j.id = l.id AND j.lease_token = l.token AND j.state = 'running'
            RETURNING j.id
            """, [PGArray(leases.map(\.id)), PGArray(leases.map(\.token))], name: "complete jobs")
        let completed = try rows.rows.map { try $0.decode(Int64.self, at: 0) }
        let done = Set(completed)
        if !completed.isEmpty { try promoteDependants(of: completed, on: connection) }
        return (completed, leases.map(\.id).filter { !done.contains($0) })
    }

    /// Counts the completion of `upstream` against the pending jobs that wait on them, and makes
    /// those with nothing left available. The UPDATE locks each dependant row, so completions in
    /// concurrent transactions take turns on it and each subtracts from the other's result.
    static func promoteDependants(of upstream: [Int64], on connection: PGConnection) throws {
        let rows = try connection.query(
            """
            WITH hits AS (
                SELECT job_id, count(*)::int4 AS n FROM recon_job_dependencies
                WHERE depends_on_id = ANY($1::int8[]) GROUP BY job_id ORDER BY job_id
            )
            UPDATE recon_jobs j
            SET pending_dependencies = greatest(j.pending_dependencies - hits.n, 0),
                state = \(waitingState(pending: "j.pending_dependencies - hits.n", runAt: "j.run_at"))
            FROM hits WHERE j.id = hits.job_id AND j.state = 'pending'
            RETURNING j.queue, j.state
            """, [PGArray(upstream)], name: "count completed dependencies")
        var queues: Set<String> = []
        for row in rows.rows where try row.decode(String.self, at: 1) == JobState.available.rawValue {
            queues.insert(try row.decode(String.self, at: 0))
        }
        for queue in queues { try connection.notify(notifyChannel, payload: queue) }
    }

    /// Promotes the pending jobs among `ids` (all pending jobs when nil) whose dependencies have all
    /// completed. Returns how many were promoted. The coordinator also runs it as a periodic sweep.
    @discardableResult
    public static func promoteReady(among ids: [Int64]?, on connection: PGConnection) throws -> Int {
        let rows = try connection.query(
            """
            UPDATE recon_jobs j
            SET state = \(dueState(runAt: "j.run_at")), pending_dependencies = 0
            WHERE j.state = 'pending' AND ($1::int8[] IS NULL OR j.id = ANY($1::int8[]))
              AND NOT EXISTS (
                  SELECT 1 FROM recon_job_dependencies d JOIN recon_jobs up ON up.id = d.depends_on_id
                  WHERE d.job_id = j.id AND up.state <> 'completed')
            RETURNING j.queue
            """, [ids.map(PGArray.init)], name: "promote dependants")
        let queues = Set(try rows.rows.map { try $0.decode(String.self, at: 0) })
        for queue in queues { try connection.notify(notifyChannel, payload: queue) }
        return rows.rowCount
    }

    /// Records a failed attempt. A retryable failure with attempts left goes back to the queue
    /// after a full-jitter backoff; otherwise the job is dead. Every attempt's error is kept.
    public static func fail(
        _ lease: LeaseRef, worker: String, error: String, retryable: Bool, retryAfterMilliseconds: Int64? = nil,
        on connection: PGConnection, random: inout some RandomNumberGenerator
    ) throws -> FailOutcome {
        guard
            let row = try connection.query(
                """
                SELECT \(RetryColumns.list) FROM recon_jobs
                WHERE id = $1 AND lease_token = $2 AND state = 'running' FOR UPDATE
                """, [lease.id, lease.token], name: "fail: lock job"
            ).first
        else { return .leaseLost }
        let (attempt, policy) = try RetryColumns.decode(row, at: 0)
        let decision = RetryDecision.after(
            attempt: attempt, policy: policy, retryable: retryable, retryAfterMilliseconds: retryAfterMilliseconds,
            using: &random)
        let recorded = try recordFailures(
            [FailureRecord(lease: lease, decision: decision, worker: worker, error: error)], on: connection)
        guard let failed = recorded.first else { return .leaseLost }
        return .recorded(failed)
    }

    /// One failed attempt to write: the lease it ran under, what becomes of the job, and why.
    struct FailureRecord {
        var lease: LeaseRef
        var decision: RetryDecision
        var worker: String?
        var error: String
    }

    /// Writes failed attempts, for `fail` and the reaper alike: each job back to the queue after
    /// its delay (retryable) or dead, its attempt's error appended to its errors. Fenced by the
    /// token, so a row another lease has taken meanwhile is left alone (and not returned).
    static func recordFailures(_ failures: [FailureRecord], on connection: PGConnection) throws -> [FailedAttempt] {
        guard !failures.isEmpty else { return [] }
        let failures = failures.sorted { $0.lease.id < $1.lease.id }
        let rows = try connection.query(
            """
            UPDATE recon_jobs j SET
                state = CASE WHEN r.dead THEN 'dead' ELSE 'retryable' END,
                run_at = CASE WHEN r.dead THEN j.run_at ELSE clock_timestamp() + r.delay * interval '1 millisecond' END,
                finalized_at = CASE WHEN r.dead THEN now() ELSE NULL END,
                errors = j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', j.attempt, 'at', now(), 'worker', r.worker, 'error', r.error))
            FROM unnest($1::int8[], $2::int8[], $3::bool[], $4::int8[], $5::text[], $6::text[])
                 AS r(id, token, dead, delay, worker, error)
            WHERE j.id = r.id AND j.lease_token = r.token AND j.state = 'running'
            RETURNING j.id, j.kind, j.args::text, j.attempt, r.worker, r.error, r.dead, j.run_at
            """,
            [
                PGArray(failures.map(\.lease.id)), PGArray(failures.map(\.lease.token)),
                PGArray(failures.map { $0.decision == .dead }),
                PGArray(failures.map { $0.decision.delayMilliseconds ?? 0 }), PGArray(failures.map(\.worker)),
                PGArray(failures.map(\.error)),
            ], name: "record failed attempts")
        let recorded = try rows.rows.map { row in
            FailedAttempt(
                id: try row.decode(at: 0), kind: try row.decode(at: 1), args: try row.decode(at: 2),
                attempt: try row.decode(at: 3), worker: try row.decode(at: 4), error: try row.decode(at: 5),
                retryAt: try row.decode(Bool.self, at: 6) ? nil : try row.decode(PGTimestamp.self, at: 7))
        }
        return recorded.sorted { $0.id < $1.id }
    }

    /// Whether `lease` still holds, read without locking the row (the fenced UPDATE at completion
    /// is what counts; this only spares a stale worker its writes).
    public static func holds(_ lease: LeaseRef, on connection: PGConnection) throws -> Bool {
        try !connection.query(
            "SELECT 1 FROM recon_jobs WHERE id = $1 AND lease_token = $2 AND state = 'running'",
            [lease.id, lease.token],
            name: "complete: read fence"
        ).rows.isEmpty
    }

    /// Puts a leased job back to run at `runAt` (now when nil) without using an attempt: snooze
    /// ("the bill is not ready yet") and release (a worker shutting down) are both this.
    public static func reschedule(_ lease: LeaseRef, runAt: PGTimestamp?, on connection: PGConnection) throws
        -> FencedOutcome
    {
        let rows = try connection.query(
            """
            UPDATE recon_jobs SET
                state = \(dueState(runAt: "coalesce($3::timestamptz, now())")),
                run_at = coalesce($3::timestamptz, now()), attempt = greatest(attempt - 1, 0)
            WHERE id = $1 AND lease_token = $2 AND state = 'running'
            RETURNING queue
            """, [lease.id, lease.token, runAt], name: "reschedule job")
        guard let queue = try rows.first?.decode(String.self, at: 0) else { return .leaseLost }
        if runAt == nil { try connection.notify(notifyChannel, payload: queue) }
        return .done
    }

    /// Returns expired leases to the queue as failed attempts (or dead, past max attempts). Rows
    /// another coordinator is reaping are skipped. Returns what became of each, for the log.
    public static func reapExpired(limit: Int, on connection: PGConnection, random: inout some RandomNumberGenerator)
        throws -> [FailedAttempt]
    {
        let expired = try connection.query(
            """
            SELECT id, lease_token, lease_owner, lease_expires_at, \(RetryColumns.list)
            FROM recon_jobs WHERE state = 'running' AND lease_expires_at < clock_timestamp()
            ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit], name: "reaper: find expired leases")
        let failures = try expired.rows.map { row in
            let (attempt, policy) = try RetryColumns.decode(row, at: 4)
            let owner = try row.decode(String?.self, at: 2)
            return FailureRecord(
                lease: LeaseRef(id: try row.decode(at: 0), token: try row.decode(at: 1)),
                decision: RetryDecision.after(attempt: attempt, policy: policy, using: &random), worker: owner,
                error: "lease expired: worker \(owner ?? "?") stopped heartbeating "
                    + "(lease ran until \(try row.decode(PGTimestamp.self, at: 3)))")
        }
        return try recordFailures(failures, on: connection)
    }

    /// The columns a retry decision needs, in this order, and their reading.
    enum RetryColumns {
        static let list = "attempt, max_attempts, backoff_base_ms, backoff_cap_ms"

        static func decode(_ row: PGRow, at offset: Int) throws -> (attempt: Int, policy: RetryPolicy) {
            let policy = RetryPolicy(
                maxAttempts: try row.decode(Int.self, at: offset + 1),
                baseMilliseconds: try row.decode(Int64.self, at: offset + 2),
                capMilliseconds: try row.decode(Int64.self, at: offset + 3))
            return (try row.decode(Int.self, at: offset), policy)
        }
    }

    // MARK: States

    /// The state of a job that waits only for its time: available once `runAt` (an SQL expression)
    /// has come, scheduled before.
    static func dueState(runAt: String) -> String {
        "CASE WHEN \(runAt) <= now() THEN 'available' ELSE 'scheduled' END"
    }

    /// The state of a job that may still wait for `pending` (an SQL expression) dependencies.
    static func waitingState(pending: String, runAt: String) -> String {
        "CASE WHEN \(pending) > 0 THEN 'pending' ELSE \(dueState(runAt: runAt)) END"
    }

    // MARK: Operator actions

    /// Makes a dead, cancelled, retryable or scheduled job available now, with at least one more
    /// attempt. Returns the state it had, or nil when there is no such job.
    public static func retry(_ id: Int64, on connection: PGConnection) throws -> JobState? {
        let before = try connection.query(
            "SELECT state FROM recon_jobs WHERE id = $1 FOR UPDATE", [id], name: "retry: lock job")
        guard let state = try before.first.map({ try $0.decode(String.self, at: 0) }).flatMap(JobState.init) else {
            return nil
        }
        guard [.dead, .cancelled, .retryable, .scheduled].contains(state) else {
            throw JobError(
                "job \(id) is \(state.rawValue); only dead, cancelled, retryable or scheduled jobs can be retried")
        }
        // A job cancelled while it waited for dependencies goes back to waiting for them.
        let row = try connection.query(
            """
            UPDATE recon_jobs j SET
                pending_dependencies = w.incomplete,
                state = \(waitingState(pending: "w.incomplete", runAt: "now()")),
                run_at = now(), finalized_at = NULL, max_attempts = greatest(j.max_attempts, j.attempt + 1)
            FROM (SELECT count(*)::int4 AS incomplete FROM recon_job_dependencies d
                  JOIN recon_jobs up ON up.id = d.depends_on_id
                  WHERE d.job_id = $1 AND up.state <> 'completed') w
            WHERE j.id = $1 RETURNING j.queue
            """, [id], name: "retry job")
        if let queue = try row.first?.decode(String.self, at: 0) {
            try connection.notify(notifyChannel, payload: queue)
        }
        return state
    }

    /// Cancels a job that has not finished. A running job's lease is lost at once: its worker's
    /// heartbeat is told so, and its completion is refused. Returns the state it had.
    public static func cancel(_ id: Int64, on connection: PGConnection) throws -> JobState? {
        let before = try connection.query(
            "SELECT state FROM recon_jobs WHERE id = $1 FOR UPDATE", [id], name: "cancel: lock job")
        guard let state = try before.first.map({ try $0.decode(String.self, at: 0) }).flatMap(JobState.init) else {
            return nil
        }
        guard !state.isFinal else { throw JobError("job \(id) is already \(state.rawValue)") }
        try connection.query(
            "UPDATE recon_jobs SET state = 'cancelled', finalized_at = now() WHERE id = $1", [id], name: "cancel job")
        return state
    }

    /// Deletes finished jobs older than the retention, in batches, keeping any that a pending job
    /// still depends on. Returns how many were deleted.
    public static func prune(olderThanMilliseconds retention: Int64, batch: Int = 10_000, on connection: PGConnection)
        throws -> Int
    {
        let rows = try connection.query(
            """
            DELETE FROM recon_jobs WHERE id IN (
                SELECT j.id FROM recon_jobs j
                WHERE j.state IN ('completed', 'dead', 'cancelled')
                  AND j.finalized_at < now() - $1 * interval '1 millisecond'
                  AND NOT EXISTS (
                      SELECT 1 FROM recon_job_dependencies d JOIN recon_jobs down ON down.id = d.job_id
                      WHERE d.depends_on_id = j.id AND down.state = 'pending')
                LIMIT $2)
            """, [retention, batch], name: "prune finished jobs")
        return Int(rows.affectedRows)
    }
}
