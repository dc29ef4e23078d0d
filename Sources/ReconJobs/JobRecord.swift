import Foundation
public import ReconPostgres

/// Everything the ledger knows about one job, for `recon jobs show` and the like.
public struct JobRecord: Sendable, Codable {
    public struct Attempt: Sendable, Codable {
        public var attempt: Int
        public var at: String
        public var worker: String?
        public var error: String
    }

    public struct Dependency: Sendable, Codable {
        public var id: Int64
        public var kind: String
        public var state: String
    }

    public var id: Int64
    public var kind: String
    public var queue: String
    public var state: String
    public var args: String
    public var priority: Int
    public var attempt: Int
    public var maxAttempts: Int
    public var runAt: String
    public var createdAt: String
    public var finalizedAt: String?
    public var uniqueKey: String?
    public var leaseOwner: String?
    public var leaseExpiresAt: String?
    public var errors: [Attempt]
    public var dependsOn: [Dependency]
    /// Why a pending job is still waiting, in words; nil when it is not held.
    public var heldBecause: String?
}

extension JobLedger {
    public static func record(_ id: Int64, on connection: PGConnection) throws -> JobRecord? {
        guard
            let row = try connection.query(
                """
                SELECT id, kind, queue, state, args::text, priority, attempt, max_attempts, run_at::text, created_at::text,
                       finalized_at::text, unique_key, lease_owner, lease_expires_at::text,
                       (SELECT coalesce(jsonb_agg(jsonb_build_object('attempt', (e->>'attempt')::int, 'at', e->>'at',
                                'worker', e->>'worker', 'error', e->>'error')), '[]')
                        FROM jsonb_array_elements(errors) e)::text
                FROM recon_jobs WHERE id = $1
                """, [id], name: "job record"
            ).first
        else { return nil }
        let dependencies = try connection.query(
            """
            SELECT up.id, up.kind, up.state FROM recon_job_dependencies d JOIN recon_jobs up ON up.id = d.depends_on_id
            WHERE d.job_id = $1 ORDER BY up.id
            """, [id], name: "job dependencies"
        ).rows.map {
            JobRecord.Dependency(id: try $0.decode(at: 0), kind: try $0.decode(at: 1), state: try $0.decode(at: 2))
        }
        let errorsJSON = try row.decode(String.self, at: 14)
        let errors = (try? JSONDecoderBox.decode([JobRecord.Attempt].self, errorsJSON)) ?? []
        let state = try row.decode(String.self, at: 3)
        var held: String?
        if state == JobState.pending.rawValue {
            let blocking = dependencies.filter { $0.state != JobState.completed.rawValue }
            let dead = blocking.filter { $0.state == JobState.dead.rawValue || $0.state == JobState.cancelled.rawValue }
            if !dead.isEmpty {
                held =
                    "held: " + dead.map { "job \($0.id) (\($0.kind)) is \($0.state)" }.joined(separator: ", ")
                    + "; retry it (recon retry ID) to let this job run"
            } else if !blocking.isEmpty {
                held =
                    "waiting for " + blocking.map { "job \($0.id) (\($0.kind), \($0.state))" }.joined(separator: ", ")
            }
        }
        return JobRecord(
            id: try row.decode(at: 0), kind: try row.decode(at: 1), queue: try row.decode(at: 2), state: state,
            args: try row.decode(at: 4), priority: try row.decode(at: 5), attempt: try row.decode(at: 6),
            maxAttempts: try row.decode(at: 7), runAt: try row.decode(at: 8), createdAt: try row.decode(at: 9),
            finalizedAt: try row.decode(at: 10), uniqueKey: try row.decode(at: 11), leaseOwner: try row.decode(at: 12),
            leaseExpiresAt: try row.decode(at: 13), errors: errors, dependsOn: dependencies, heldBecause: held)
    }

    /// Jobs in a state, newest first.
    public static func list(state: JobState, limit: Int, on connection: PGConnection) throws -> [JobRecord] {
        let ids = try connection.query(
            "SELECT id FROM recon_jobs WHERE state = $1 ORDER BY id DESC LIMIT $2", [state.rawValue, limit],
            name: "list jobs")
        return try ids.rows.compactMap { try record(try $0.decode(Int64.self, at: 0), on: connection) }
    }
}

enum JSONDecoderBox {
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
