import ReconJobs
import Synchronization

/// The jobs a worker holds leases on, with the tasks running them. Free slots are counted from
/// it, heartbeats carry its leases, and a lost lease cancels the job's task through it.
final class RunningJobs: Sendable {
    private struct State {
        var jobs: [Int64: (lease: LeaseRef, task: Task<Void, Never>?)] = [:]
        var slotWaiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.jobs.count } }
    var leases: [LeaseRef] { state.withLock { $0.jobs.values.map(\.lease) } }
    var tasks: [Task<Void, Never>] { state.withLock { $0.jobs.values.compactMap(\.task) } }

    func add(_ lease: LeaseRef) { state.withLock { $0.jobs[lease.id] = (lease, nil) } }

    func attach(_ task: Task<Void, Never>, to id: Int64) {
        state.withLock { state in
            guard let entry = state.jobs[id] else { return }
            state.jobs[id] = (entry.lease, task)
        }
    }

    /// The job is done with (completed, failed, released, lost): its slot is free again.
    func remove(_ id: Int64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.jobs.removeValue(forKey: id)
            defer { state.slotWaiter = nil }
            return state.slotWaiter
        }
        waiter?.resume()
    }

    /// Cancels the task of a job whose lease was lost.
    func cancel(_ id: Int64) { state.withLock { $0.jobs[id]?.task }?.cancel() }

    /// Returns when fewer than `slots` jobs run (or at once if that is already so).
    func waitForFreeSlot(slots: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = state.withLock { state -> Bool in
                if state.jobs.count < slots { return true }
                state.slotWaiter = continuation
                return false
            }
            if free { continuation.resume() }
        }
    }

    /// Wakes `waitForFreeSlot` (used at shutdown).
    func wakeSlotWaiter() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.slotWaiter = nil }
            return state.slotWaiter
        }?.resume()
    }
}
