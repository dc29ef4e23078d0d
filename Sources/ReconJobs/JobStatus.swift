public import ReconPostgres

/// Job counts by queue and state, and the live leases by worker: `recon status` and the
/// dashboard's jobs page.
public struct JobStatus: Codable, Sendable {
    public struct Count: Codable, Sendable {
        public var queue: String
        public var state: String
        public var jobs: Int64
    }

    public struct Leases: Codable, Sendable {
        public var worker: String
        public var running: Int64
        public var oldestLeaseSeconds: Int64
    }

    public var counts: [Count]
    public var workers: [Leases]

    public static func read(on connection: PGConnection) throws -> JobStatus {
        // Finished jobs count over the last day only: the table may hold millions of them.
        let counts = try connection.query(
            """
            SELECT queue, state, count(*) FROM recon_jobs
            WHERE state NOT IN ('completed', 'dead', 'cancelled') OR finalized_at > now() - interval '1 day'
            GROUP BY queue, state ORDER BY queue, state
            """, name: "status: counts")
        let workers = try connection.query(
            """
            SELECT lease_owner, count(*), extract(epoch FROM now() - min(attempted_at))::int8
            FROM recon_jobs WHERE state = 'running' GROUP BY lease_owner ORDER BY lease_owner
            """, name: "status: leases")
        return JobStatus(
            counts: try counts.rows.map {
                Count(queue: try $0.decode(at: 0), state: try $0.decode(at: 1), jobs: try $0.decode(at: 2))
            },
            workers: try workers.rows.map {
                Leases(
                    worker: try $0.decode(String?.self, at: 0) ?? "?", running: try $0.decode(at: 1),
                    oldestLeaseSeconds: try $0.decode(Int64?.self, at: 2) ?? 0)
            })
    }
}
