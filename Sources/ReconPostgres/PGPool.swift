import ReconBlocking
import Synchronization

/// A small pool of libpq connections, each used by one body at a time on a thread of the pool's own.
///
/// A connection that broke (server restarted, network cut) is noticed when it is next checked out
/// and replaced by a fresh one, so the first statement after `pg_ctl restart` succeeds.
public final class PGPool: Sendable {
    private let connectionString: String
    private let maxConnections: Int
    /// Every connection's transactions are READ ONLY unless a body says otherwise (see `init`).
    public let isReadOnly: Bool
    private let executor: BlockingExecutor
    private let state: Mutex<State>

    /// What a caller gets from the pool: a connection to reuse, or the right to open a new one.
    private enum Slot: Sendable {
        case existing(PooledConnection)
        case new
    }

    private struct State {
        var idle: [PooledConnection] = []
        /// Connections open or being opened, idle or in use.
        var open = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Slot, any Error>)] = []
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    /// `connectionString` is a libpq connection string or URI. It is kept, never logged.
    ///
    /// `readOnly` opens every connection with `SET SESSION CHARACTERISTICS AS TRANSACTION READ
    /// ONLY`: each statement and transaction on it is read-only, and a write fails with SQLSTATE
    /// 25006. It guards against mistakes (a write where only reads belong), not against intent: a
    /// body could still run `SET TRANSACTION READ WRITE`.
    public init(connectionString: String, maxConnections: Int = 8, readOnly: Bool = false) {
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.connectionString = connectionString
        self.maxConnections = maxConnections
        isReadOnly = readOnly
        // One thread per connection: a body never waits for a thread while holding a connection.
        executor = BlockingExecutor(threads: maxConnections, name: "recon.pg")
        state = Mutex(State())
    }

    deinit { executor.shutdown() }

    /// Runs `body` with a connection of the pool, on one of the pool's threads. The connection goes
    /// back to the pool afterwards, or is closed if `body` left it broken or mid-transaction.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let slot = try await acquire()
        let connectionString = self.connectionString
        let readOnly = isReadOnly
        let (outcome, pooled) = try await executor.run { () -> (Result<T, any Error>, PooledConnection?) in
            let connection: PGConnection
            do {
                switch slot {
                case .existing(let reused) where reused.connection.checkIdleHealth():
                    connection = reused.connection
                case .existing(let stale):
                    stale.connection.close()
                    connection = try Self.open(connectionString, readOnly: readOnly)
                case .new:
                    connection = try Self.open(connectionString, readOnly: readOnly)
                }
            } catch {
                return (.failure(error), nil)
            }
            let outcome = Result { try body(connection) }
            if case .failure = outcome { connection.rollbackQuietly() }
            // Keep it only if it is idle and sound; a broken one is closed here, on this thread.
            guard connection.checkIdleHealth() else {
                connection.close()
                return (outcome, nil)
            }
            return (outcome, PooledConnection(connection))
        }
        release(pooled)
        return try outcome.get()
    }

    /// A new connection, made read-only for a read-only pool before anyone uses it.
    private static func open(_ connectionString: String, readOnly: Bool) throws -> PGConnection {
        let connection = try PGConnection(connectionString: connectionString)
        if readOnly {
            do {
                try connection.execute(
                    script: "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", name: "pool: read only")
            } catch {
                connection.close()
                throw error
            }
        }
        return connection
    }

    /// Runs `body` in a transaction on a pooled connection: COMMIT on return, ROLLBACK on throw.
    public func transaction<T: Sendable>(
        name: String = "transaction", _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in try connection.transaction(name: name, body) }
    }

    /// One statement on a pooled connection.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PGEncodable] = [], name: String? = nil) async throws
        -> PGResult
    {
        try await withConnection { connection in try connection.query(sql, parameters, name: name) }
    }

    /// Closes idle connections and refuses new work; connections in use close when they come back.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.open -= state.idle.count
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        // PQfinish only writes a Terminate message to the socket; it does not wait for an answer.
        for pooled in idle { pooled.connection.close() }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PGError(.poolClosed, "the connection pool was closed"))
        }
        executor.shutdown()
    }

    // MARK: - Checkout

    private func acquire() async throws -> Slot {
        let waiterID = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Slot, any Error>) in
                let immediate: Result<Slot, any Error>? = state.withLock { state in
                    if state.closed { return .failure(PGError(.poolClosed, "the connection pool is closed")) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let connection = state.idle.popLast() { return .success(.existing(connection)) }
                    if state.open < maxConnections {
                        state.open += 1
                        return .success(.new)
                    }
                    state.waiters.append((waiterID, continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Slot, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Gives a healthy connection back, or (nil) gives up the place of one that broke.
    private func release(_ connection: PooledConnection?) {
        enum Next { case none, handOff(CheckedContinuation<Slot, any Error>, Slot), closeIt }
        let next: Next = state.withLock { state in
            if state.closed {
                state.open -= 1
                return .closeIt
            }
            if !state.waiters.isEmpty {
                let waiter = state.waiters.removeFirst().continuation
                return .handOff(waiter, connection.map(Slot.existing) ?? .new)
            }
            if let connection {
                state.idle.append(connection)
            } else {
                state.open -= 1
            }
            return .none
        }
        switch next {
        case .none: break
        case .handOff(let waiter, let slot): waiter.resume(returning: slot)
        // PQfinish only writes a Terminate message to the socket; it does not wait for an answer.
        case .closeIt: connection?.connection.close()
        }
    }
}

/// A connection on its way between the pool's list and the body it is lent to.
///
/// `@unchecked Sendable`: `PGConnection` is not Sendable, so that bodies cannot leak it. The pool
/// itself moves it between threads, and hands each box to exactly one body at a time: a box is
/// either in `State.idle`, in a waiter's hand-off, or held by the one `withConnection` call that
/// took it out under the lock.
final class PooledConnection: @unchecked Sendable {
    let connection: PGConnection
    init(_ connection: PGConnection) { self.connection = connection }
}
