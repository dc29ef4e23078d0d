import ReconJobs
import Synchronization

/// The leases a worker holds, with the tasks running them. Free slots are counted from it,
/// heartbeats carry its leases, and a lost lease cancels the job's task through it.
///
/// Keyed by the whole lease (id and token): after a long partition the same job can come back
/// to this worker under a new token while the old task still runs, and the old task finishing
/// must not remove the new lease.
final class RunningJobs: Sendable {
    private struct Entry {
        var task: Task<Void, Never>?
        /// Its completion is being committed; the fenced commit decides, not the heartbeat.
        var completing = false
    }

    private struct State {
        var jobs: [LeaseRef: Entry] = [:]
        var slotWaiter: CheckedContinuation<Void, Never>?
        /// Set at shutdown, under the same lock as the waiter, so a wake-up cannot slip between
        /// the lease loop's check and its wait.
        var stopping = false
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.jobs.count } }
    var leases: [LeaseRef] { state.withLock { Array($0.jobs.keys) } }
    var tasks: [Task<Void, Never>] { state.withLock { $0.jobs.values.compactMap(\.task) } }

    func add(_ lease: LeaseRef) { state.withLock { $0.jobs[lease] = Entry() } }

    func attach(_ task: Task<Void, Never>, to lease: LeaseRef) {
        state.withLock { $0.jobs[lease]?.task = task }
    }

    func markCompleting(_ lease: LeaseRef) { state.withLock { $0.jobs[lease]?.completing = true } }

    /// The lease is done with (completed, failed, released, lost): its slot is free again.
    func remove(_ lease: LeaseRef) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.jobs.removeValue(forKey: lease)
            defer { state.slotWaiter = nil }
            return state.slotWaiter
        }
        waiter?.resume()
    }

    /// The coordinator says these job ids' leases are gone. Cancels their tasks and returns the
    /// leases that were really lost (a job whose completion is being committed is left to it).
    func leasesLost(_ ids: [Int64]) -> [LeaseRef] {
        let lost = Set(ids)
        let hit = state.withLock { state in
            state.jobs.filter { lost.contains($0.key.id) && !$0.value.completing }
        }
        for entry in hit.values { entry.task?.cancel() }
        return Array(hit.keys)
    }

    func cancel(_ lease: LeaseRef) { state.withLock { $0.jobs[lease]?.task }?.cancel() }

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
