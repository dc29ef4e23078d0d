public import Logging
public import ReconJobs
public import ReconPostgres
import Synchronization

/// Database writes that must land together with the job's completion, or not at all. They run
/// inside the transaction that marks the job completed where its fencing token still holds.
public typealias JobWrites = @Sendable (PGConnection) throws -> Void

/// What a handler asks for when it returns.
public enum JobResult: Sendable {
    /// Done: commit `writes` (if any) in the fenced completion transaction.
    case complete(JobWrites?)
    /// Done, with writes too large to share a transaction (a staged bill of a million lines):
    /// committed in a fenced transaction of their own, so other jobs' completions do not wait.
    case completeAlone(JobWrites)
    /// Not yet (e.g. the channel's bill is not published): run again after `delay`, no attempt used.
    case snooze(Duration)
}

/// A failure a handler reports on purpose. Any other error thrown counts as retryable.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// False when no retry can help (bad credentials, a request the channel rejects): dead at once.
    public var retryable: Bool
    /// Not before this long (a channel's `Retry-After`), even if the backoff would be shorter.
    public var retryAfter: Duration?

    public init(_ message: String, retryable: Bool = true, retryAfter: Duration? = nil) {
        self.message = message
        self.retryable = retryable
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}

/// What a handler gets to work with.
///
/// The database comes two ways, neither of them for the job's results: those go in the returned
/// `JobWrites`, which commit only where the job's fencing token still holds.
public struct JobContext: Sendable {
    public let job: LeasedJob
    public let worker: String
    /// For reads: every transaction on these connections is READ ONLY.
    public let reads: JobReads
    /// For bookkeeping that must land whatever becomes of the job, and is not fenced: a channel's
    /// shared request slots (`recon_channel_slots`), the record of each request of a fetch that may
    /// yet fail (`bill_fetch_attempts`). A worker whose lease was lost may still write here, so
    /// nothing that the job's outcome depends on belongs here.
    public let sideEffects: PGPool
    /// Carries `job.id`, `job.kind` and the kind's registered fields (`bill.channel`, `bill.date`).
    public let logger: Logger
    /// Runs once the job's outcome is settled, whatever it was.
    public let cleanup = JobCleanup()
    /// Runs only once the job's completion has committed: for counting what the job decided
    /// (metrics), which a lost lease or a failed commit must not count.
    public let committed = JobCleanup()
    /// When the handler was started, for the time a job took to its commit.
    public let started = ContinuousClock.now
}

/// The database for a handler's reads. Its connections are opened read-only (`PGPool(readOnly:)`),
/// so a write that belongs in the fenced completion fails at once with SQLSTATE 25006 instead of
/// landing outside it, where a worker that lost its lease could still make it. Only reads are
/// offered: `query`, and `withConnection` for several statements in one go.
public struct JobReads: Sendable {
    let pool: PGPool

    init(pool: PGPool) {
        precondition(pool.isReadOnly, "JobReads needs a read-only pool")
        self.pool = pool
    }

    /// One statement (a read) on a read-only connection.
    public func query(_ sql: String, _ parameters: [any PGEncodable] = [], name: String? = nil) async throws
        -> PGResult
    {
        try await pool.query(sql, parameters, name: name)
    }

    /// Several reads on one read-only connection, on a thread of the pool's own.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }
}

/// Actions for after a job's outcome is settled (completed, failed, snoozed or handed back):
/// removing temporary files that the completion writes still read, for example.
public final class JobCleanup: Sendable {
    private let actions = Mutex<[@Sendable () -> Void]>([])

    public func add(_ action: @escaping @Sendable () -> Void) {
        actions.withLock { $0.append(action) }
    }

    func run() {
        for action in actions.withLock({ actions in
            defer { actions = [] }; return actions
        }) { action() }
    }
}

/// The code for one job kind. Handlers should notice task cancellation: a lost lease cancels them.
public protocol JobHandler: Sendable {
    func run(_ context: JobContext) async throws -> JobResult
    /// How long one run may take; nil for the worker's `--job-timeout-seconds`.
    var timeout: Duration? { get }
}

extension JobHandler {
    public var timeout: Duration? { nil }
}

/// Handlers by job kind. Later parts of Recon (channels, matching, settlement) register theirs.
public struct JobRegistry: Sendable {
    private var handlers: [String: any JobHandler] = [:]

    public init() {}

    public mutating func register(_ kind: String, _ handler: any JobHandler) { handlers[kind] = handler }

    public func handler(for kind: String) -> (any JobHandler)? { handlers[kind] }

    public var kinds: [String] { handlers.keys.sorted() }

    /// The kinds every worker has: `noop` and `probe` (see `ProbeHandler`).
    public static var builtIn: JobRegistry {
        var registry = JobRegistry()
        registry.register("noop", NoopHandler())
        registry.register("probe", ProbeHandler())
        return registry
    }
}

/// Does nothing and completes: for measuring the queue itself.
struct NoopHandler: JobHandler {
    func run(_ context: JobContext) async throws -> JobResult { .complete(nil) }
}
