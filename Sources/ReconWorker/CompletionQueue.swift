import Foundation
import ReconJobs
import ReconPostgres
import Synchronization

/// What became of a finished handler's completion. The errors are kept as thrown: a `PGError`
/// with its SQLSTATE decides whether committing again may help, a `JobFailure` from the job's
/// writes whether the job may be tried again.
enum CompletionOutcome: Sendable {
    case completed
    /// The token no longer held; nothing of this attempt landed.
    case leaseLost
    /// The job's own writes threw; they and the completion were rolled back.
    case writesFailed(any Error)
    /// The transaction as a whole failed (the database went away, a deadlock outside the writes);
    /// nothing landed.
    case transactionFailed(any Error)

    /// Committing the same work again may succeed: it failed on a deadlock, a serialization
    /// failure or a lost connection (`PGError.isTransient`), and fencing makes a second try safe.
    var isTransient: Bool {
        switch self {
        case .completed, .leaseLost: return false
        case .writesFailed(let error), .transactionFailed(let error): return (error as? PGError)?.isTransient ?? false
        }
    }

    /// How the job is failed after this outcome; nil when there is nothing to report (completed,
    /// or the lease is gone). A `JobFailure` thrown by the writes is the job's own verdict (a bill
    /// refused while it was staged) and keeps its words and its word on retrying (a bill that
    /// contradicts its own totals is dead at once); any other error is the writing's and retried.
    var failure: JobFailure? {
        switch self {
        case .completed, .leaseLost:
            return nil
        case .writesFailed(let failure as JobFailure):
            return failure
        case .writesFailed(let error):
            return JobFailure("writing the job's results failed: \(error)")
        case .transactionFailed(let error):
            return JobFailure("the completion transaction failed: \(error)")
        }
    }
}

/// Completions waiting to be committed. Handlers that finish at about the same time share one
/// transaction (one WAL flush), and each job is still fenced by its own token: with writes, in a
/// savepoint of its own, so a lost lease or a failed write undoes only that job.
final class CompletionQueue: Sendable {
    struct Item: Sendable {
        var lease: LeaseRef
        var writes: JobWrites?
        var done: CheckedContinuation<CompletionOutcome, Never>
    }

    private struct State {
        var items: [Item] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Queues a completion and waits until it is committed (or refused).
    func complete(_ lease: LeaseRef, writes: JobWrites?) async -> CompletionOutcome {
        await withCheckedContinuation { continuation in
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.items.append(Item(lease: lease, writes: writes, done: continuation))
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// Waits for at least one item and returns up to `limit`; empty once closed and drained.
    func takeBatch(limit: Int) async -> [Item] {
        while true {
            let batch = state.withLock { state -> [Item]? in
                if !state.items.isEmpty {
                    let count = min(limit, state.items.count)
                    defer { state.items.removeFirst(count) }
                    return Array(state.items.prefix(count))
                }
                return state.closed ? [] : nil
            }
            if let batch { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.items.isEmpty || state.closed { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Commits one batch: every item's completion fenced by its token, writes in a savepoint each.
    /// Work that failed transiently (a deadlock or serialization failure, in its writes or in the
    /// transaction, or a lost connection) is committed again, twice at most, before its jobs are
    /// reported failed; fencing makes that safe.
    static func commit(_ batch: [Item], pool: PGPool) async -> [CompletionOutcome] {
        await commit(batch.map { ($0.lease, $0.writes) }, pool: pool)
    }

    /// The same for work that is not queued: a job whose writes are large commits on its own.
    static func commit(_ work: [(LeaseRef, JobWrites?)], pool: PGPool) async -> [CompletionOutcome] {
        var outcomes = await commitOnce(work, pool: pool)
        for attempt in 2...3 {
            let again = outcomes.indices.filter { outcomes[$0].isTransient }
            guard !again.isEmpty else { break }
            try? await Task.sleep(for: .milliseconds(20 * attempt))
            let retried = await commitOnce(again.map { work[$0] }, pool: pool)
            for (index, outcome) in zip(again, retried) { outcomes[index] = outcome }
        }
        return outcomes
    }

    /// Test-only (`RECON_FAULT_COMMIT_PAUSE_MS`): holds a job's completion between its writes and
    /// its fenced UPDATE, so a test can freeze the worker there, past its lease, and see the fence
    /// itself reject the late commit. Unset in production; announced on stderr when it acts.
    static let commitPauseMilliseconds = ProcessInfo.processInfo.environment["RECON_FAULT_COMMIT_PAUSE_MS"].flatMap {
        UInt32($0)
    }

    private static func pauseForFaultTests(job: Int64) {
        guard let pause = commitPauseMilliseconds, pause > 0 else { return }
        FileHandle.standardError.write(
            Data("fault: job \(job)'s completion pauses \(pause) ms between its writes and its fenced update\n".utf8))
        usleep(pause * 1000)
    }

    private static func commitOnce(_ work: [(LeaseRef, JobWrites?)], pool: PGPool) async -> [CompletionOutcome] {
        do {
            return try await pool.transaction(name: "complete jobs") { connection in
                var outcomes = [CompletionOutcome](repeating: .completed, count: work.count)
                let plain = work.indices.filter { work[$0].1 == nil }
                if !plain.isEmpty {
                    let lost = Set(try JobLedger.complete(plain.map { work[$0].0 }, on: connection).lost)
                    for index in plain where lost.contains(work[index].0.id) { outcomes[index] = .leaseLost }
                }
                for index in work.indices {
                    guard let writes = work[index].1 else { continue }
                    try connection.execute(script: "SAVEPOINT job", name: "complete: savepoint")
                    // A plain read of the fence, the writes, then the fenced UPDATE last: the job's row
                    // is locked only for a moment at the end, so heartbeats for it (and for every other
                    // job of this worker, sent in one statement) never wait behind a long write such
                    // as a bill's COPY. The UPDATE decides; the read only saves a stale worker's writes.
                    do {
                        if try !JobLedger.holds(work[index].0, on: connection) {
                            outcomes[index] = .leaseLost
                        } else {
                            try writes(connection)
                            pauseForFaultTests(job: work[index].0.id)
                            if try JobLedger.complete([work[index].0], on: connection).completed.isEmpty {
                                outcomes[index] = .leaseLost
                            }
                        }
                    } catch {
                        outcomes[index] = .writesFailed(error)
                    }
                    if case .completed = outcomes[index] {
                        try connection.execute(script: "RELEASE SAVEPOINT job", name: "complete: release savepoint")
                    } else {
                        try connection.execute(script: "ROLLBACK TO SAVEPOINT job", name: "complete: undo job")
                    }
                }
                return outcomes
            }
        } catch {
            return Array(repeating: .transactionFailed(error), count: work.count)
        }
    }
}
