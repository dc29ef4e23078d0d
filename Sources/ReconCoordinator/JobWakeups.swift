import ReconPostgres
import Synchronization

/// Wakes long-polling lease requests when jobs may have become available in their queues.
///
/// A counter that NOTIFYs on `recon_jobs` bump, remembering which queue each bump was for. A
/// request reads the counter, tries to claim, and if it got nothing waits for a bump of one of its
/// queues past what it read: a NOTIFY that arrives between the claim and the wait is not lost, and
/// a NOTIFY for another queue wakes nobody who does not lease from it. `bumpAll` (a reconnect of
/// the listener, which may have missed notifications; the reaper) wakes everyone.
final class JobWakeups: Sendable {
    private struct Waiter {
        var queues: [String]
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var generation: UInt64 = 0
        /// The generation of each queue's latest bump.
        var bumped: [String: UInt64] = [:]
        /// The generation of the latest bump of every queue.
        var bumpedAll: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        /// Waits that ended (timeout, cancellation) before their waiter was registered.
        var ended: Set<UInt64> = []
        var nextWaiter: UInt64 = 0

        func woken(_ queues: [String], after generation: UInt64) -> Bool {
            bumpedAll > generation || queues.contains { (bumped[$0] ?? 0) > generation }
        }
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    /// Jobs may be available in `queue`: wake the requests that lease from it.
    func bump(queue: String) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            state.bumped[queue] = state.generation
            let ids = state.waiters.filter { $0.value.queues.contains(queue) }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in woken { continuation.resume() }
    }

    /// Anything may have changed: wake everyone waiting.
    func bumpAll() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            state.bumpedAll = state.generation
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// How many requests wait now (for tests).
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Returns when one of `queues` is bumped past `generation`, after `timeout`, or on cancellation.
    func wait(for queues: [String], after generation: UInt64, timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.resume(id)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let immediate = self.state.withLock { state -> Bool in
                            if state.woken(queues, after: generation) || Task.isCancelled { return true }
                            if state.ended.contains(id) { return true }
                            state.waiters[id] = Waiter(queues: queues, continuation: continuation)
                            return false
                        }
                        if immediate { continuation.resume() }
                    }
                } onCancel: {
                    self.resume(id)
                }
            }
            await group.next()
            group.cancelAll()
        }
        state.withLock { state in
            state.ended.remove(id)
            state.waiters[id] = nil
        }
    }

    private func resume(_ id: UInt64) {
        let waiter = state.withLock { state in
            let waiter = state.waiters.removeValue(forKey: id)
            if waiter == nil { state.ended.insert(id) }
            return waiter
        }
        waiter?.continuation.resume()
    }
}
