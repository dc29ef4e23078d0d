public import ReconPostgres

/// Thrown by `JobLedger.claim` when another transaction recorded an answer under the same request
/// id first (the worker asked two coordinators with one id). The caller rolls back its claim, so
/// its jobs go back untouched, and gives the recorded answer instead.
public struct LeaseRequestAnswered: Error, Sendable {
    public var request: String
}

/// A lease that expired before its worker ever showed it had the answer, put back without using
/// an attempt (for the coordinator's log).
public struct UnreceivedLease: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var args: String
    /// The attempt the lost lease would have been, which the job has again.
    public var attempt: Int
    public var worker: String?
    public var request: String
}

/// Idempotent lease calls. A lease call names a request id; what it leased is recorded under that
/// id in the claim's transaction (`recon_lease_requests`), so asking again with the same id, of
/// any coordinator, gives the same jobs back instead of leasing more. An answer that never reached
/// its worker costs no attempt: the worker acknowledges each answer (its next lease call names it,
/// and a heartbeat shows it too), and a lease that expires with neither goes back to the queue
/// with its attempt given back.
extension JobLedger {
    /// Records the jobs `leased` under `request`; throws `LeaseRequestAnswered` when the id is
    /// already recorded (by a transaction that committed, or that commits while this one waits).
    static func record(request: String, worker: String, leased: [LeasedJob], on connection: PGConnection) throws {
        let inserted = try connection.query(
            """
            INSERT INTO recon_lease_requests (request_id, worker, job_ids, tokens)
            VALUES ($1, $2, $3::int8[], $4::int8[])
            ON CONFLICT (request_id) DO NOTHING
            """, [request, worker, PGArray(leased.map(\.id)), PGArray(leased.map(\.token))],
            name: "lease: record the answer")
        guard inserted.affectedRows == 1 else { throw LeaseRequestAnswered(request: request) }
    }

    /// The answer recorded under `request`: its jobs whose lease from that answer still holds, with
    /// their current expiry. Nil when no answer was recorded (the first call leased nothing or
    /// never committed): the caller then claims as for a new request. Throws when the id belongs
    /// to another worker.
    public static func answer(to request: String, worker: String, on connection: PGConnection) throws -> [LeasedJob]? {
        guard
            let recorded = try connection.query(
                "SELECT worker FROM recon_lease_requests WHERE request_id = $1", [request],
                name: "lease: find the answer"
            ).first
        else { return nil }
        guard try recorded.decode(String.self, at: 0) == worker else {
            throw JobError("lease request \(request) was made by another worker")
        }
        let rows = try connection.query(
            """
            SELECT j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts, j.lease_token,
                   j.lease_expires_at
            FROM recon_lease_requests r
            CROSS JOIN LATERAL unnest(r.job_ids, r.tokens) WITH ORDINALITY AS l(id, token, position)
            JOIN recon_jobs j ON j.id = l.id AND j.lease_token = l.token AND j.state = 'running'
            WHERE r.request_id = $1
            ORDER BY l.position
            """, [request], name: "lease: read the answer again")
        return try rows.rows.map { row in
            LeasedJob(
                id: try row.decode(at: 0), kind: try row.decode(at: 1), queue: try row.decode(at: 2),
                args: try row.decode(at: 3), attempt: try row.decode(at: 4), maxAttempts: try row.decode(at: 5),
                token: try row.decode(at: 6),
                leaseExpiresAt: try row.decode(PGTimestamp.self, at: 7).microsecondsSince1970)
        }
    }

    /// Marks the answers to `requests` (made by `worker`) as received.
    public static func acknowledge(_ requests: [String], worker: String, on connection: PGConnection) throws {
        guard !requests.isEmpty else { return }
        try connection.query(
            """
            UPDATE recon_lease_requests SET acknowledged_at = now()
            WHERE request_id = ANY($1::text[]) AND worker = $2 AND acknowledged_at IS NULL
            """, [PGArray(requests), worker], name: "lease: acknowledge answers")
    }

    /// Puts back, without using an attempt, expired leases whose answer the worker never showed it
    /// received: no acknowledgement of their request, no heartbeat since the claim. Runs before
    /// `reapExpired`, which then fails the rest as usual. Rows another coordinator holds are skipped.
    public static func releaseUnreceived(limit: Int, on connection: PGConnection) throws -> [UnreceivedLease] {
        let rows = try connection.query(
            """
            WITH unreceived AS (
                SELECT j.id FROM recon_jobs j
                WHERE j.state = 'running' AND j.lease_expires_at < clock_timestamp()
                  AND j.lease_request IS NOT NULL AND j.heartbeat_at = j.attempted_at
                  AND EXISTS (
                      SELECT 1 FROM recon_lease_requests r
                      WHERE r.request_id = j.lease_request AND r.acknowledged_at IS NULL)
                ORDER BY j.lease_expires_at LIMIT $1
                FOR UPDATE OF j SKIP LOCKED
            )
            UPDATE recon_jobs j SET state = 'available', run_at = now(), attempt = greatest(j.attempt - 1, 0)
            FROM unreceived WHERE j.id = unreceived.id
            RETURNING j.id, j.kind, j.args::text, j.lease_owner, j.lease_request, j.queue, j.attempt + 1
            """, [limit], name: "reaper: release unreceived leases")
        var queues: Set<String> = []
        let released = try rows.rows.map { row in
            queues.insert(try row.decode(String.self, at: 5))
            return UnreceivedLease(
                id: try row.decode(at: 0), kind: try row.decode(at: 1), args: try row.decode(at: 2),
                attempt: try row.decode(at: 6), worker: try row.decode(at: 3), request: try row.decode(at: 4))
        }
        for queue in queues { try connection.notify(notifyChannel, payload: queue) }
        return released.sorted { $0.id < $1.id }
    }

    /// Deletes recorded answers older than `retentionMilliseconds` (a day is plenty: a worker asks
    /// again within its call timeout). Returns how many were deleted.
    @discardableResult
    public static func pruneLeaseRequests(olderThanMilliseconds retention: Int64, on connection: PGConnection)
        throws -> Int
    {
        let rows = try connection.query(
            "DELETE FROM recon_lease_requests WHERE answered_at < now() - $1 * interval '1 millisecond'",
            [retention], name: "prune lease requests")
        return Int(rows.affectedRows)
    }
}
