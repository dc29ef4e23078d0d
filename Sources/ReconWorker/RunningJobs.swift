import Logging
import ReconJobs
import Synchronization

/// The leases a worker holds. Free slots are counted from it, heartbeats carry its leases, and a
/// lost lease or the end of the grace period stops a job through it: each job's task waits on
/// `waitForStop` beside its handler, and the first to end decides.
///
/// Keyed by the whole lease (id and token): after a long partition the same job can come back
/// to this worker under a new token while the old task still runs, and the old task finishing
/// must not remove the new lease.
final class RunningJobs: Sendable {
    /// Why a job was stopped from outside its handler.
    enum Stop: Sendable, Equatable {
        /// The coordinator says the lease is gone (expired and reaped, cancelled).
        case leaseLost
        /// Shutdown: the grace period is over and the lease is handed back.
        case handedBack
    }

    private struct Entry {
        /// The job's logger, with its id, kind and fields, for lines about it written from outside.
        var logger: Logger
        /// Its completion is being committed; the fenced commit decides, not the heartbeat.
        var completing = false
        /// Its outcome is reported (e.g. failed after its time limit) while its handler may still be
        /// winding down: no more heartbeats, nothing to hand back.
        var settled = false
        var stop: Stop?
        var stopWaiter: CheckedContinuation<Stop?, Never>?

        /// Still ours to heartbeat, stop or hand back.
        var isLive: Bool { stop == nil && !settled }
    }

    private struct State {
        var jobs: [LeaseRef: Entry] = [:]
        var slotWaiter: CheckedContinuation<Void, Never>?
        var idleWaiter: CheckedContinuation<Void, Never>?
        /// Set at shutdown, under the same lock as the waiter, so a wake-up cannot slip between
        /// the lease loop's check and its wait.
        var stopping = false
    }

    private let state = Mutex(State())

    /// Jobs whose tasks have not ended: the slots in use.
    var count: Int { state.withLock { $0.jobs.count } }

    /// The leases to heartbeat: neither stopped nor settled.
    var leases: [LeaseRef] { state.withLock { $0.jobs.filter { $0.value.isLive }.map(\.key) } }

    func add(_ lease: LeaseRef, logger: Logger) { state.withLock { $0.jobs[lease] = Entry(logger: logger) } }

    func markCompleting(_ lease: LeaseRef) { state.withLock { $0.jobs[lease]?.completing = true } }

    func settle(_ lease: LeaseRef) { state.withLock { $0.jobs[lease]?.settled = true } }

    /// The job's task has ended: its slot is free again.
    func remove(_ lease: LeaseRef) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.jobs.removeValue(forKey: lease)
            var waiters = [state.slotWaiter].compactMap { $0 }
            state.slotWaiter = nil
            if state.jobs.isEmpty, let idle = state.idleWaiter {
                waiters.append(idle)
                state.idleWaiter = nil
            }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The coordinator says these job ids' leases are gone: stops their jobs. A job whose
    /// completion is being committed is left to the fenced commit.
    func leasesLost(_ ids: [Int64]) {
        let lost = Set(ids)
        stop(.leaseLost) { lease, entry in lost.contains(lease.id) && !entry.completing }
    }

    /// End of the grace period: stops every job still in its handler and returns their leases
    /// (with each job's logger) to hand back. Jobs already committing finish their commit.
    func handBack() -> [(lease: LeaseRef, logger: Logger)] {
        stop(.handedBack) { _, entry in !entry.completing }
    }

    @discardableResult
    private func stop(_ reason: Stop, where matches: (LeaseRef, Entry) -> Bool) -> [(
        lease: LeaseRef, logger: Logger
    )] {
        let (stopped, waiters) = state.withLock { state in
            var stopped: [(lease: LeaseRef, logger: Logger)] = []
            var waiters: [CheckedContinuation<Stop?, Never>] = []
            for (lease, entry) in state.jobs where entry.isLive && matches(lease, entry) {
                state.jobs[lease]?.stop = reason
                state.jobs[lease]?.stopWaiter = nil
                stopped.append((lease, entry.logger))
                if let waiter = entry.stopWaiter { waiters.append(waiter) }
            }
            return (stopped, waiters)
        }
        for waiter in waiters { waiter.resume(returning: reason) }
        return stopped
    }

    /// Returns why the job was stopped, once it is; nil when the waiting task is cancelled first
    /// (its handler ended on its own) or the job is not held.
    func waitForStop(_ lease: LeaseRef) async -> Stop? {
        enum Now {
            case answer(Stop?)
            case later
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Stop?, Never>) in
                let now = state.withLock { state -> Now in
                    guard let entry = state.jobs[lease] else { return .answer(nil) }
                    if let stop = entry.stop { return .answer(stop) }
                    if Task.isCancelled { return .answer(nil) }
                    state.jobs[lease]?.stopWaiter = continuation
                    return .later
                }
                if case .answer(let stop) = now { continuation.resume(returning: stop) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Stop?, Never>? in
                defer { state.jobs[lease]?.stopWaiter = nil }
                return state.jobs[lease]?.stopWaiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Returns once no job's task is left, or when the waiting task is cancelled.
    func waitUntilIdle() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.jobs.isEmpty || Task.isCancelled { return true }
                    state.idleWaiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.idleWaiter = nil }
                return state.idleWaiter
            }?.resume()
        }
    }

    /// Returns when fewer than `slots` jobs run, or once stopping; false when stopping.
    func waitForFreeSlot(slots: Int) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.stopping || state.jobs.count < slots { return true }
                state.slotWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        return !isStopping
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Shutdown: no more leasing; wakes the lease loop if it waits for a slot.
    func stop() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.stopping = true
            defer { state.slotWaiter = nil }
            return state.slotWaiter
        }?.resume()
    }
}
