/// The coordinator's HTTP API for workers, as JSON bodies. Every call after `lease` names the
/// job and the fencing token of its lease; a token that no longer holds gets `409 lease_lost`.
public enum LeaseAPI {
    public static let leasePath = "/v1/lease"
    public static let heartbeatPath = "/v1/heartbeat"
    public static let failPath = "/v1/fail"
    public static let snoozePath = "/v1/snooze"
    public static let releasePath = "/v1/release"
    public static let healthPath = "/healthz"

    /// The most a long-poll may wait, and the most jobs one lease call may take.
    public static let maxWaitMilliseconds = 30_000
    public static let maxCount = 1_000
}

public struct LeaseRequest: Codable, Sendable, Equatable {
    public var worker: String
    public var queues: [String]
    /// How many jobs the worker can take now (its free slots).
    public var count: Int
    /// How long the coordinator may hold the request open when no job is due (long-poll).
    public var waitMilliseconds: Int
    /// Names this call, 1 to 200 bytes, new for each call and the same when it is asked again
    /// (a timeout, another coordinator): a repeated id gets the jobs leased under it back rather
    /// than more. The worker acknowledges an answer with jobs (`HeartbeatRequest.acknowledged`)
    /// before it starts them; a lease that expires neither acknowledged nor heartbeated was never
    /// received, and its job goes back without using an attempt.
    public var requestId: String

    public init(
        worker: String, queues: [String], count: Int, waitMilliseconds: Int,
        requestId: String = LeaseRequest.newRequestID()
    ) {
        self.worker = worker
        self.queues = queues
        self.count = count
        self.waitMilliseconds = waitMilliseconds
        self.requestId = requestId
    }

    /// 128 random bits as 32 hex digits.
    public static func newRequestID() -> String {
        var random = SystemRandomNumberGenerator()
        let bits = [random.next(), random.next()] as [UInt64]
        return bits.map { word in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

public struct LeaseResponse: Codable, Sendable, Equatable {
    public var jobs: [LeasedJob]
    /// The lease length; the worker heartbeats at a third of it.
    public var leaseMilliseconds: Int64

    public init(jobs: [LeasedJob], leaseMilliseconds: Int64) {
        self.jobs = jobs
        self.leaseMilliseconds = leaseMilliseconds
    }
}

public struct HeartbeatRequest: Codable, Sendable, Equatable {
    public var worker: String
    public var leases: [LeaseRef]
    /// Lease calls (request ids) whose answers reached the worker: their leases were received.
    public var acknowledged: [String]?

    public init(worker: String, leases: [LeaseRef], acknowledged: [String] = []) {
        self.worker = worker
        self.leases = leases
        self.acknowledged = acknowledged.isEmpty ? nil : acknowledged
    }
}

public struct HeartbeatResponse: Codable, Sendable, Equatable {
    /// Jobs whose lease is gone (expired and reaped, cancelled, finished): stop working on them.
    public var lost: [Int64]
    public var leaseMilliseconds: Int64

    public init(lost: [Int64], leaseMilliseconds: Int64) {
        self.lost = lost
        self.leaseMilliseconds = leaseMilliseconds
    }
}

public struct FailRequest: Codable, Sendable, Equatable {
    public var worker: String
    public var lease: LeaseRef
    public var error: String
    /// False for errors no retry can fix (bad credentials, a rejected signature): dead at once.
    public var retryable: Bool
    /// The earliest the job may run again, whatever its backoff says (a channel's `Retry-After`).
    public var retryAfterMilliseconds: Int64?

    public init(worker: String, lease: LeaseRef, error: String, retryable: Bool, retryAfterMilliseconds: Int64? = nil) {
        self.worker = worker
        self.lease = lease
        self.error = error
        self.retryable = retryable
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }
}

public struct FailResponse: Codable, Sendable, Equatable {
    /// `retryable` or `dead`.
    public var state: String
    /// When the job runs again, microseconds since 1970; absent when dead.
    public var runAt: Int64?

    public init(state: String, runAt: Int64?) {
        self.state = state
        self.runAt = runAt
    }
}

public struct SnoozeRequest: Codable, Sendable, Equatable {
    public var worker: String
    public var lease: LeaseRef
    /// Run again this many milliseconds from now; no attempt is used.
    public var delayMilliseconds: Int64

    public init(worker: String, lease: LeaseRef, delayMilliseconds: Int64) {
        self.worker = worker
        self.lease = lease
        self.delayMilliseconds = delayMilliseconds
    }
}

public struct ReleaseRequest: Codable, Sendable, Equatable {
    public var worker: String
    /// Leases handed back unfinished (a worker shutting down); no attempt is used.
    public var leases: [LeaseRef]

    public init(worker: String, leases: [LeaseRef]) {
        self.worker = worker
        self.leases = leases
    }
}

public struct ReleaseResponse: Codable, Sendable, Equatable {
    public var released: [Int64]
    public var lost: [Int64]

    public init(released: [Int64], lost: [Int64]) {
        self.released = released
        self.lost = lost
    }
}

/// An error answer: `code` is stable (`lease_lost`, `bad_request`, `unauthorized`), `error` says why.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public var code: String
    public var error: String

    public init(code: String, error: String) {
        self.code = code
        self.error = error
    }
}
