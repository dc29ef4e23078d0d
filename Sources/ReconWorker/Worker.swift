import Foundation
public import Logging
import ReconCore
import ReconJobs
import ReconPostgres
public import ServiceLifecycle
import Synchronization

public struct WorkerConfiguration: Sendable {
    /// Coordinator base URLs (`http://host:port`), tried in turn when one does not answer.
    public var coordinators: [String]
    public var apiToken: String
    public var databaseURL: String
    public var workerID: String
    public var slots: Int
    public var queues: [String]
    /// How long a lease call may wait at the coordinator for work.
    public var leaseWaitMilliseconds: Int
    /// How long running jobs get to finish after SIGTERM before their leases are handed back.
    public var gracePeriod: Duration
    /// The longest a job may run before it is failed (retryably) and its lease let go, for
    /// handlers that set no `timeout` of their own. A hung handler must not hold a job forever.
    public var jobTimeout: Duration

    public init(
        coordinators: [String], apiToken: String, databaseURL: String, workerID: String, slots: Int = 4,
        queues: [String] = ["default"], leaseWaitMilliseconds: Int = 5_000, gracePeriod: Duration = .seconds(20),
        jobTimeout: Duration = .seconds(3600)
    ) {
        self.coordinators = coordinators
        self.apiToken = apiToken
        self.databaseURL = databaseURL
        self.workerID = workerID
        self.slots = slots
        self.queues = queues
        self.leaseWaitMilliseconds = leaseWaitMilliseconds
        self.gracePeriod = gracePeriod
        self.jobTimeout = jobTimeout
    }
}

/// `recon worker`: leases jobs from the coordinators into its slots, runs their handlers,
/// heartbeats their leases, and commits each job's writes with its fenced completion. On SIGTERM
/// it stops leasing, lets running jobs finish within the grace period, and hands back the rest.
public final class Worker: Service {
    private let configuration: WorkerConfiguration
    private let registry: JobRegistry
    private let logger: Logger
    private let client: CoordinatorClient
    private let pool: PGPool
    private let running = RunningJobs()
    private let completions = CompletionQueue()
    /// Set when the coordinators refused our token; `run` then fails instead of returning.
    private let refusedToken = Atomic<Bool>(false)
    /// Round-trip times of lease calls that brought work, in microseconds, for the summary at exit.
    private let leaseLatencies = Mutex<[Int64]>([])
    /// The coordinators' lease length, learnt from the first lease answer; 0 until then.
    private let leaseMilliseconds = Atomic<Int64>(0)

    public init(configuration: WorkerConfiguration, registry: JobRegistry = .builtIn, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        client = CoordinatorClient(baseURLs: configuration.coordinators, token: configuration.apiToken)
        // One connection per slot for handlers' reads, plus the completer's.
        pool = PGPool(connectionString: configuration.databaseURL, maxConnections: configuration.slots + 1)
    }

    public func run() async throws {
        defer { pool.close() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.commitCompletions() }
            group.addTask { await self.heartbeatLoop() }
            await withGracefulShutdownHandler {
                await self.leaseLoop()
            } onGracefulShutdown: {
                self.running.stop()
            }
            await drain()
            completions.close()
            group.cancelAll()
        }
        if refusedToken.load(ordering: .relaxed) {
            throw WorkerError(
                "the coordinators refused the API token (HTTP 401); check RECON_API_TOKEN or --token-file")
        }
        let latencies = leaseLatencies.withLock { $0.sorted() }
        func percentile(_ p: Double) -> Int64 {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        logger.info(
            "worker stopped",
            metadata: [
                "worker.id": "\(configuration.workerID)", "lease.calls": "\(latencies.count)",
                "lease.p50_us": "\(percentile(0.5))", "lease.p99_us": "\(percentile(0.99))",
            ])
    }

    // MARK: Leasing

    private func leaseLoop() async {
        var backoff = Duration.milliseconds(200)
        while await running.waitForFreeSlot(slots: configuration.slots) {
            let free = configuration.slots - running.count
            guard free > 0 else { continue }
            let request = LeaseRequest(
                worker: configuration.workerID, queues: configuration.queues, count: free,
                waitMilliseconds: configuration.leaseWaitMilliseconds)
            do {
                // Not cancelled at shutdown: the coordinator would go on waiting for this request and
                // could lease jobs (even those we hand back) to it after we left. We wait for the
                // answer (at most the long-poll wait) and hand back whatever it brings.
                let started = ContinuousClock.now
                let response = try await client.call(
                    LeaseAPI.leasePath, request, as: LeaseResponse.self,
                    timeout: .milliseconds(configuration.leaseWaitMilliseconds + 10_000))
                if !response.jobs.isEmpty {
                    let elapsed = ContinuousClock.now - started
                    let micros =
                        elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
                    // The most recent 100,000 calls: enough for percentiles, bounded for a long-lived worker.
                    leaseLatencies.withLock { latencies in
                        if latencies.count >= 100_000 { latencies.removeFirst(10_000) }
                        latencies.append(micros)
                    }
                }
                backoff = .milliseconds(200)
                leaseMilliseconds.store(response.leaseMilliseconds, ordering: .relaxed)
                if running.isStopping {
                    await release(response.jobs.map { LeaseRef(id: $0.id, token: $0.token) })
                    break
                }
                for job in response.jobs { start(job) }
            } catch CoordinatorCallError.unauthorized {
                // A wrong token will not get better by retrying: stop, so systemd shows the failure.
                logger.critical("the coordinators refused this worker's API token; stopping")
                running.stop()
                refusedToken.store(true, ordering: .relaxed)
                break
            } catch {
                logger.warning("lease call failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    private func start(_ job: LeasedJob) {
        let lease = LeaseRef(id: job.id, token: job.token)
        running.add(lease)
        let task = Task { await self.execute(job, lease: lease) }
        running.attach(task, to: lease)
    }

    // MARK: Running one job

    private func execute(_ job: LeasedJob, lease: LeaseRef) async {
        defer { running.remove(lease) }
        var jobLogger = logger
        jobLogger[metadataKey: "job.id"] = "\(job.id)"
        jobLogger[metadataKey: "job.kind"] = "\(job.kind)"
        guard let handler = registry.handler(for: job.kind) else {
            // Handed back without using an attempt (a newer worker may know the kind, e.g. during a
            // rolling deploy), a little later so this worker does not take it straight back.
            jobLogger.warning("no handler for this kind on this worker; handing the job back")
            await snooze(lease, milliseconds: 30_000, logger: jobLogger)
            return
        }
        let context = JobContext(job: job, worker: configuration.workerID, pool: pool, logger: jobLogger)
        defer { context.cleanup.run() }
        let result: JobResult
        do {
            result = try await runWithTimeout(handler, context, timeout: handler.timeout ?? configuration.jobTimeout)
        } catch let failure as JobFailure {
            if !Task.isCancelled {
                await fail(
                    lease, failure.message, retryable: failure.retryable,
                    retryAfterMilliseconds: failure.retryAfter?.clampedDelayMilliseconds)
            }
            return
        } catch {
            // Cancelled because the lease was lost (or at shutdown, where the lease is handed back).
            if !Task.isCancelled { await fail(lease, "\(error)", retryable: true) }
            return
        }
        if Task.isCancelled { return }
        switch result {
        case .snooze(let delay):
            await snooze(lease, milliseconds: delay.clampedDelayMilliseconds, logger: jobLogger)
        case .complete, .completeAlone:
            running.markCompleting(lease)
            let outcome: CompletionOutcome
            switch result {
            case .completeAlone(let writes):
                outcome =
                    await CompletionQueue.commit([(lease, writes)], pool: pool).first
                    ?? .transactionFailed("no outcome")
            case .complete(let writes):
                outcome = await completions.complete(lease, writes: writes)
            case .snooze:
                return
            }
            switch outcome {
            case .completed: break
            case .leaseLost:
                jobLogger.warning("lease lost before completion; this attempt's writes were rolled back")
            case .writesFailed(let message):
                await fail(lease, "writing the job's results failed: \(message)", retryable: true)
            case .transactionFailed(let message):
                await fail(lease, "the completion transaction failed: \(message)", retryable: true)
            }
        }
    }

    /// Runs the handler in a task of its own and gives up on it after `timeout`: the task is
    /// cancelled and the job failed, even if the handler ignores cancellation (its late completion,
    /// if any, is then refused by the fence).
    private func runWithTimeout(_ handler: any JobHandler, _ context: JobContext, timeout: Duration) async throws
        -> JobResult
    {
        let work = Task { try await handler.run(context) }
        let decided = OnceFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JobResult, any Error>) in
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled, decided.claim() else { return }
                    work.cancel()
                    continuation.resume(
                        throwing: JobFailure("the job ran longer than its limit of \(timeout); stopped"))
                }
                Task {
                    let result = await work.result
                    timer.cancel()
                    guard decided.claim() else { return }
                    continuation.resume(with: result)
                }
            }
        } onCancel: {
            work.cancel()
        }
    }

    private func snooze(_ lease: LeaseRef, milliseconds: Int64, logger jobLogger: Logger) async {
        do {
            _ = try await client.call(
                LeaseAPI.snoozePath,
                SnoozeRequest(worker: configuration.workerID, lease: lease, delayMilliseconds: milliseconds),
                as: [String: String].self)
        } catch {
            jobLogger.warning("snooze failed; the lease expires instead", metadata: ["error": "\(error)"])
        }
    }

    private func fail(_ lease: LeaseRef, _ message: String, retryable: Bool, retryAfterMilliseconds: Int64? = nil) async
    {
        do {
            _ = try await client.call(
                LeaseAPI.failPath,
                FailRequest(
                    worker: configuration.workerID, lease: lease, error: message, retryable: retryable,
                    retryAfterMilliseconds: retryAfterMilliseconds),
                as: FailResponse.self)
        } catch {
            // The lease expires and the reaper counts the attempt; nothing is lost.
            logger.warning(
                "could not report a failure", metadata: ["job.id": "\(lease.id)", "error": "\(error)"])
        }
    }

    // MARK: Background loops

    private func commitCompletions() async {
        while true {
            let batch = await completions.takeBatch(limit: 512)
            if batch.isEmpty { return }
            let outcomes = await CompletionQueue.commit(batch, pool: pool)
            for (item, outcome) in zip(batch, outcomes) { item.done.resume(returning: outcome) }
        }
    }

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            // A third of the lease, so two heartbeats may be lost before it expires; until the first
            // lease answer says how long leases are, a short tick.
            let lease = leaseMilliseconds.load(ordering: .relaxed)
            let interval = Duration.milliseconds(lease > 0 ? max(50, lease / 3) : 100)
            try? await Task.sleep(for: interval)
            let leases = running.leases
            guard !leases.isEmpty else { continue }
            do {
                let answer = try await client.call(
                    LeaseAPI.heartbeatPath, HeartbeatRequest(worker: configuration.workerID, leases: leases),
                    as: HeartbeatResponse.self)
                for lease in running.leasesLost(answer.lost) {
                    logger.warning("lease lost; cancelling the job", metadata: ["job.id": "\(lease.id)"])
                }
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// After leasing stopped: give running jobs the grace period, then hand back the rest.
    private func drain() async {
        let deadline = ContinuousClock.now + configuration.gracePeriod
        while running.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let unfinished = running.leases
        guard !unfinished.isEmpty else { return }
        logger.warning(
            "grace period over; handing back unfinished jobs", metadata: ["jobs.count": "\(unfinished.count)"])
        for lease in unfinished { running.cancel(lease) }
        await release(unfinished)
        for task in running.tasks { await task.value }
    }

    private func release(_ leases: [LeaseRef]) async {
        guard !leases.isEmpty else { return }
        do {
            _ = try await client.call(
                LeaseAPI.releasePath, ReleaseRequest(worker: configuration.workerID, leases: leases),
                as: ReleaseResponse.self)
        } catch {
            logger.warning("could not hand back leases; they expire instead", metadata: ["error": "\(error)"])
        }
    }
}

public struct WorkerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// True for the first caller of `claim()` only: which of two racing tasks resumes a continuation.
final class OnceFlag: Sendable {
    private let taken = Atomic<Bool>(false)
    func claim() -> Bool { !taken.exchange(true, ordering: .acquiringAndReleasing) }
}
