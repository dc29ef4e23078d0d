import Foundation
import Logging
import ReconCore
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Synchronization
import Testing

@testable import ReconWorker

/// A worker with test handlers against an in-process coordinator: each job's outcome, what the
/// worker and the coordinator log about it, time limits, and shutdown.
@Suite(.tags(.integration), .skippedWhenFast) struct WorkerOutcomeTests {
    /// Set once, read by the test.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    /// A wait that no cancellation ends, without holding a thread: only `open()` does.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

        func wait() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.open { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }

        func open() {
            let waiter = state.withLock { state in
                state.open = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    static let billArgs = #"{"channel": "bank-a", "date": "2026-11-23"}"#

    /// Completed, retried then completed, dead at once from the writes, snoozed, lease lost: each
    /// logged once by the worker, with `job.id`, `job.kind`, `job.attempt`, `job.outcome` and, for
    /// the bill, `bill.channel` and `bill.date`; the coordinator logs the failures it records.
    @Test func everyOutcomeIsLoggedOnceWithItsKeys() async throws {
        let stuckStopped = Flag()
        var registry = JobRegistry()
        registry.register("ok", TestHandler { _ in .complete(nil) })
        registry.register(
            "flaky",
            TestHandler { context in
                if context.job.attempt == 1 { throw JobFailure("the channel answered 503") }
                return .complete(nil)
            })
        // A bill that contradicts its own totals while it is staged, in the completion.
        registry.register(
            "bill",
            TestHandler { _ in
                .completeAlone { _ in
                    throw JobFailure("the trailer's sum is 30.01, the lines add up to 30.00", retryable: false)
                }
            })
        registry.register("later", TestHandler { _ in .snooze(.seconds(3600)) })
        registry.register(
            "stuck",
            TestHandler { _ in
                do { try await Task.sleep(for: .seconds(60)) } catch { stuckStopped.set() }
                return .complete(nil)
            })
        try await WorkerRig.run(registry: registry) { rig in
            let quick = RetryPolicy(maxAttempts: 5, baseMilliseconds: 0, capMilliseconds: 0)
            let ids = try await rig.enqueue([
                NewJob(kind: "ok"), NewJob(kind: "flaky", retry: quick),
                NewJob(kind: "bill", args: Self.billArgs, retry: quick), NewJob(kind: "later"), NewJob(kind: "stuck"),
            ])
            let (ok, flaky, bill, later, stuck) = (ids[0], ids[1], ids[2], ids[3], ids[4])
            let expected = [ok: "completed", flaky: "completed", bill: "dead", later: "scheduled", stuck: "running"]
            try await rig.until("every job but one is settled and that one runs") {
                for (id, state) in expected where try await rig.job(id).state != state { return false }
                return true
            }
            _ = try await rig.pool.transaction { try JobLedger.cancel(stuck, on: $0) }
            try await rig.until("the cancelled job's lease is lost") { !rig.outcomes(stuck).isEmpty }
            _ = await rig.stopWorker()

            #expect(rig.outcomes(ok) == ["1:completed"])
            #expect(rig.outcomes(flaky) == ["1:retried", "2:completed"])
            #expect(rig.outcomes(bill) == ["1:dead"])
            #expect(rig.outcomes(later) == ["1:snoozed"])
            #expect(rig.outcomes(stuck) == ["1:lease_lost"])
            #expect(stuckStopped.isSet)
            // The permanent failure in the writes is dead at its first attempt of five.
            #expect(try await rig.job(bill) == ("dead", 1))
            #expect(try await rig.errors(bill).contains("30.01"))

            let billLines = rig.workerLog.lines(where: "job.id", is: "\(bill)").filter {
                $0.metadata["job.outcome"] != nil
            }
            #expect(billLines.count == 1)
            let line = try #require(billLines.first)
            #expect(line.level == .error)
            #expect(line.metadata["job.kind"] == "bill" && line.metadata["job.attempt"] == "1")
            #expect(line.metadata["bill.channel"] == "bank-a" && line.metadata["bill.date"] == "2026-11-23")
            #expect(line.metadata["error"]?.contains("30.01") == true)
            for id in ids {
                for line in rig.workerLog.lines(where: "job.id", is: "\(id)") {
                    #expect(line.metadata["job.kind"] != nil && line.metadata["job.attempt"] != nil, "\(line)")
                }
            }
            // The coordinator logs the failures it recorded, once each, with the same keys.
            #expect(rig.outcomes(bill, in: rig.coordinatorLog) == ["1:dead"])
            #expect(rig.outcomes(flaky, in: rig.coordinatorLog) == ["1:retried"])
            let recorded = try #require(rig.coordinatorLog.lines(where: "job.id", is: "\(bill)").first)
            #expect(recorded.metadata["bill.channel"] == "bank-a" && recorded.metadata["bill.date"] == "2026-11-23")
        }
    }

    /// A handler that ignores cancellation past its time limit: the job is failed (here dead, its
    /// only attempt) while the handler still runs; the worker waits for it to stop. No clock in
    /// the test: the handler waits until the test opens its gate, after the job is dead, so the
    /// job can only have died by its limit (a handler that were waited for would never return).
    @Test func aJobPastItsLimitIsFailedOnTimeEvenIfItsHandlerIgnoresCancellation() async throws {
        let returned = Flag()
        let gate = Gate()
        var registry = JobRegistry()
        registry.register(
            "deaf",
            TestHandler(timeout: .milliseconds(300)) { _ in
                await gate.wait()
                returned.set()
                return .complete(nil)
            })
        try await WorkerRig.run(registry: registry) { rig in
            // Whatever fails below, the handler is let go.
            defer { gate.open() }
            let id = try await rig.enqueue([NewJob(kind: "deaf", retry: RetryPolicy(maxAttempts: 1))])[0]
            try await rig.until("the job is dead", timeout: .seconds(20)) { try await rig.job(id).state == "dead" }
            #expect(!returned.isSet)
            #expect(try await rig.errors(id).contains("ran longer than its limit of 0.3 seconds"))
            // The row turns dead when the coordinator commits; the worker logs the outcome when
            // the answer reaches it, a moment later on a loaded machine.
            try await rig.until("the worker logs the outcome", timeout: .seconds(5)) { rig.outcomes(id) == ["1:dead"] }
            gate.open()
            _ = await rig.stopWorker()
            #expect(returned.isSet)
        }
    }

    /// Shutdown gives running jobs the grace period but not a moment longer than they need: a job
    /// that ends early ends the worker early.
    @Test func shutdownWaitsForRunningJobsOnlyAsLongAsTheyRun() async throws {
        let started = Flag()
        var registry = JobRegistry()
        registry.register(
            "short",
            TestHandler { _ in
                started.set()
                try await Task.sleep(for: .milliseconds(800))
                return .complete(nil)
            })
        try await WorkerRig.run(registry: registry, grace: .seconds(60)) { rig in
            let id = try await rig.enqueue([NewJob(kind: "short")])[0]
            // The handler itself, not only the lease: a stop between the two hands the job back.
            try await rig.until("the job runs") { started.isSet }
            let took = await rig.stopWorker()
            #expect(took < .seconds(10), "\(took)")
            #expect(try await rig.job(id).state == "completed")
            #expect(rig.outcomes(id) == ["1:completed"])
        }
    }

    /// Past the grace period a running job is stopped and handed back without using an attempt.
    @Test func pastTheGracePeriodAJobIsHandedBackWithoutUsingAnAttempt() async throws {
        let stopped = Flag()
        let started = Flag()
        var registry = JobRegistry()
        registry.register(
            "long",
            TestHandler { _ in
                started.set()
                do { try await Task.sleep(for: .seconds(60)) } catch { stopped.set() }
                return .complete(nil)
            })
        try await WorkerRig.run(registry: registry, grace: .milliseconds(500)) { rig in
            let id = try await rig.enqueue([NewJob(kind: "long")])[0]
            try await rig.until("the job runs") { started.isSet }
            let took = await rig.stopWorker()
            #expect(took < .seconds(10), "\(took)")
            // The handler's task is cancelled as the job is handed back; it sees so a moment later
            // on a loaded machine.
            try await rig.until("the handler saw the cancellation", timeout: .seconds(5)) { stopped.isSet }
            #expect(try await rig.job(id) == ("available", 0))
            #expect(rig.outcomes(id) == ["1:handed_back"])
        }
    }
}
