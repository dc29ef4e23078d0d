public import ReconCore
public import ReconPostgres

/// The states of a job. Only `running` has a live lease.
public enum JobState: String, Sendable, Codable, CaseIterable {
    /// Waiting for the jobs it depends on to complete.
    case pending
    /// Waiting for its `run_at`.
    case scheduled
    /// Ready to be leased.
    case available
    /// Leased to a worker; `lease_token` fences its completion.
    case running
    /// Failed, waiting for its backoff to pass.
    case retryable
    case completed
    /// Out of attempts, or failed with an error that no retry can fix. Keeps every attempt's error.
    case dead
    case cancelled

    public var isFinal: Bool { self == .completed || self == .dead || self == .cancelled }
}

/// A job to add to the ledger.
public struct NewJob: Sendable, Codable, Equatable {
    public var kind: String
    public var queue: String
    /// The job's arguments as a JSON object's text.
    public var args: String
    /// Lower runs first; 0 is the most urgent.
    public var priority: Int
    /// Microseconds since 1970; nil means now.
    public var runAt: PGTimestamp?
    public var retry: RetryPolicy
    /// Enqueueing a second job with the same key returns the first one instead.
    public var uniqueKey: String?
    /// Jobs that must complete before this one becomes available.
    public var dependsOn: [Int64]

    public init(
        kind: String, queue: String = "default", args: String = "{}", priority: Int = 1, runAt: PGTimestamp? = nil,
        retry: RetryPolicy = RetryPolicy(), uniqueKey: String? = nil, dependsOn: [Int64] = []
    ) {
        self.kind = kind
        self.queue = queue
        self.args = args
        self.priority = priority
        self.runAt = runAt
        self.retry = retry
        self.uniqueKey = uniqueKey
        self.dependsOn = dependsOn
    }
}

/// What enqueueing one job did.
public struct EnqueueResult: Sendable, Codable, Equatable {
    public var id: Int64
    /// False when a job with the same unique key already existed (and `id` is that job).
    public var inserted: Bool

    public init(id: Int64, inserted: Bool) {
        self.id = id
        self.inserted = inserted
    }
}

/// A job leased to a worker, with the fencing token that every later call about it must carry.
public struct LeasedJob: Sendable, Codable, Equatable {
    public var id: Int64
    public var kind: String
    public var queue: String
    public var args: String
    /// This lease's attempt number, from 1.
    public var attempt: Int
    public var maxAttempts: Int
    public var token: Int64
    /// Microseconds since 1970.
    public var leaseExpiresAt: Int64
}

/// A job id with the fencing token of its lease.
public struct LeaseRef: Sendable, Codable, Hashable {
    public var id: Int64
    public var token: Int64
    public init(id: Int64, token: Int64) {
        self.id = id
        self.token = token
    }
}

/// What a fenced call found.
public enum FencedOutcome: Sendable, Equatable {
    /// The lease was live and the change was made.
    case done
    /// The lease is no longer this token's: expired and taken, cancelled, or already finished.
    case leaseLost
}

/// What `fail` did with the job.
public enum FailOutcome: Sendable, Equatable {
    /// The attempt was recorded: the job runs again at `retryAt`, or is dead.
    case recorded(FailedAttempt)
    /// The token no longer holds; nothing was recorded.
    case leaseLost
}

/// A failed attempt as the ledger recorded it (by `fail` or the reaper), for the answer to the
/// worker and for the coordinator's log.
public struct FailedAttempt: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    /// The job's arguments, a JSON object's text: what the log says the job was about.
    public var args: String
    public var attempt: Int
    public var worker: String?
    public var error: String
    /// When the job runs again; nil when it is dead.
    public var retryAt: PGTimestamp?

    public init(
        id: Int64, kind: String, args: String, attempt: Int, worker: String?, error: String, retryAt: PGTimestamp?
    ) {
        self.id = id
        self.kind = kind
        self.args = args
        self.attempt = attempt
        self.worker = worker
        self.error = error
        self.retryAt = retryAt
    }

    public var isDead: Bool { retryAt == nil }
}

/// Errors of the ledger that are about the request, not the database.
public struct JobError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
