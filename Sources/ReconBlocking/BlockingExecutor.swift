import Foundation

/// A fixed set of threads of our own for calls that block: libpq, libcurl, waiting on child processes.
///
/// Swift's cooperative pool has one thread per core (two here); one blocked libpq call there would
/// stall half of every async task in the process. Work submitted here runs on these threads instead,
/// and the awaiting task is resumed when it finishes.
public final class BlockingExecutor: Sendable {
    /// A process-wide executor for code that has no reason to own one.
    public static let shared = BlockingExecutor(threads: 16, name: "recon.blocking")

    private let queue: WorkQueue

    public init(threads: Int, name: String) {
        precondition(threads > 0, "a BlockingExecutor needs at least one thread")
        queue = WorkQueue()
        for index in 0..<threads {
            let thread = Thread { [queue] in queue.runLoop() }
            thread.name = "\(name).\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body` on one of the executor's threads and returns its result.
    ///
    /// Cancelling the awaiting task does not interrupt `body` (a blocking C call can't be
    /// interrupted from outside); callers that need that pass their own cancellation flag in.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = queue.push {
                continuation.resume(with: Result { try body() })
            }
            if !accepted { continuation.resume(throwing: BlockingExecutorClosed()) }
        }
    }

    /// Stops the threads once the queued work is done. Work submitted afterwards is refused.
    public func shutdown() { queue.close() }

    deinit { queue.close() }
}

/// Thrown by `run` after `shutdown()`.
public struct BlockingExecutorClosed: Error, CustomStringConvertible {
    public var description: String { "the blocking executor was shut down; the work was not run" }
}

/// The queue the executor's threads take work from: a list of closures under one condition lock.
private final class WorkQueue: @unchecked Sendable {
    // @unchecked: `jobs` and `closed` are read and written only while `condition` is locked.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var closed = false

    /// Queues `job`; false when the queue is closed and the job will never run.
    func push(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if closed { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func runLoop() {
        while let job = next() { job() }
    }

    private func next() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if closed { return nil }
            condition.wait()
        }
        let job = jobs[head]
        head += 1
        // Compact now and then so the array does not grow without bound.
        if head > 1024, head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
