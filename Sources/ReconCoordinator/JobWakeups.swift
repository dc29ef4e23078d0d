import ReconPostgres
import Synchronization

/// Wakes long-polling lease requests when jobs may have become available.
///
/// A counter that NOTIFYs on `recon_jobs` bump. A request reads the counter, tries to claim,
/// and if it got nothing waits for the counter to move past what it read: a NOTIFY that arrives
/// between the claim and the wait is not lost.
final class JobWakeups: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: (after: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    /// Something changed: wake everyone waiting.
    func bump() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns when the generation passes `after`, after `timeout`, or on cancellation.
    func wait(after generation: UInt64, timeout: Duration) async {
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
                            if state.generation > generation || Task.isCancelled { return true }
                            state.waiters[id] = (generation, continuation)
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
    }

    private func resume(_ id: UInt64) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume()
    }
}
