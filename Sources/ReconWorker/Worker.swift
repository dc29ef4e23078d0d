import Foundation
public import Logging
import ReconCore
public import ReconJobs
import ReconMetrics
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
    /// The job arguments each kind's log lines carry (`bill.channel`, `bill.date`).
    public var logFields: JobLogFields

    public init(
        coordinators: [String], apiToken: String, databaseURL: String, workerID: String, slots: Int = 4,
        queues: [String] = ["default"], leaseWaitMilliseconds: Int = 5_000, gracePeriod: Duration = .seconds(20),
        jobTimeout: Duration = .seconds(3600), logFields: JobLogFields = JobLogFields()
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
        self.logFields = logFields
    }
}

/// `recon worker`: leases jobs from the coordinators into its slots, runs their handlers,
/// heartbeats their leases, and commits each job's writes with its fenced completion. On SIGTERM
/// it stops leasing, lets running jobs finish within the grace period, and hands back the rest.
///
/// Everything runs in task groups owned by `run()`: the completer and the heartbeat beside the
/// jobs, and each job in a task of the jobs' group, where its handler races its time limit and
/// a stop from outside (a lost lease, the end of the grace period). `run()` returns once every
/// job's task has ended.
public final class Worker: Service {
    private let configuration: WorkerConfiguration
    private let registry: JobRegistry
    private let logger: Logger
    private let client: CoordinatorClient
    /// Completions, and the handlers' unfenced side effects (`JobContext.sideEffects`).
    private let pool: PGPool
    /// The handlers' reads (`JobContext.reads`): read-only connections.
    private let readPool: PGPool
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
        // One connection per slot for handlers' side effects, plus the completer's; connections
        // open when first needed.
        pool = PGPool(connectionString: configuration.databaseURL, maxConnections: configuration.slots + 1)
        readPool = PGPool(
            connectionString: configuration.databaseURL, maxConnections: configuration.slots, readOnly: true)
    }

    public func run() async throws {
        defer {
            pool.close()
            readPool.close()
        }
        await withDiscardingTaskGroup { background in
            background.addTask { await self.commitCompletions() }
            background.addTask { await self.heartbeatLoop() }
            await withDiscardingTaskGroup { jobs in
                await withGracefulShutdownHandler {
                    await self.leaseLoop(into: &jobs)
                } onGracefulShutdown: {
                    self.running.stop()
                }
                await self.drain()
            }
            // Every job's task has ended, and with it every completion it waited for.
            completions.close()
            background.cancelAll()
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

    private func leaseLoop(into jobs: inout DiscardingTaskGroup) async {
        var backoff = Duration.milliseconds(200)
        // A call that got no answer is asked again under the same id until one comes (from this
        // coordinator or another), so jobs it may have leased come back rather than being lost.
        var unanswered: String?
        while await running.waitForFreeSlot(slots: configuration.slots) {
            let free = configuration.slots - running.count
            guard free > 0 else { continue }
            let requestID = unanswered ?? LeaseRequest.newRequestID()
            unanswered = requestID
            let request = LeaseRequest(
                worker: configuration.workerID, queues: configuration.queues, count: free,
                waitMilliseconds: configuration.leaseWaitMilliseconds, requestId: requestID)
            do {
                // Not cancelled at shutdown: the coordinator would go on waiting for this request and
                // could lease jobs (even those we hand back) to it after we left. We wait for the
                // answer (at most the long-poll wait) and hand back whatever it brings.
                let started = ContinuousClock.now
                let response = try await client.call(
                    LeaseAPI.leasePath, request, as: LeaseResponse.self, lane: .lease,
                    timeout: .milliseconds(configuration.leaseWaitMilliseconds + 10_000))
                if !response.jobs.isEmpty {
                    let elapsed = ContinuousClock.now - started
                    ReconMetrics.leaseLatency(elapsed)
                    let micros =
                        elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
                    // The most recent 100,000 calls: enough for percentiles, bounded for a long-lived worker.
                    leaseLatencies.withLock { latencies in
                        if latencies.count >= 100_000 { latencies.removeFirst(10_000) }
                        latencies.append(micros)
                    }
                }
                backoff = .milliseconds(200)
                unanswered = nil
                leaseMilliseconds.store(response.leaseMilliseconds, ordering: .relaxed)
                if !response.jobs.isEmpty { await acknowledge(requestID) }
                if running.isStopping {
                    await release(response.jobs.map { (LeaseRef(id: $0.id, token: $0.token), jobLogger($0)) })
                    break
                }
                for job in response.jobs {
                    let lease = LeaseRef(id: job.id, token: job.token)
                    let jobLogger = jobLogger(job)
                    running.add(lease, logger: jobLogger)
                    jobs.addTask { await self.execute(job, lease: lease, logger: jobLogger) }
                }
            } catch CoordinatorCallError.unauthorized {
                // A wrong token will not get better by retrying: stop, so systemd shows the failure.
                logger.critical("the coordinators refused this worker's API token; stopping")
                running.stop()
                refusedToken.store(true, ordering: .relaxed)
                break
            } catch CoordinatorCallError.refused(let message) {
                // A request the coordinator refuses is not asked again as it was.
                logger.error("lease call refused", metadata: ["error": "\(message)"])
                unanswered = nil
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            } catch {
                logger.warning("lease call failed", metadata: ["error": "\(error)", "lease.request": "\(requestID)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Tells the coordinators that the answer to `request` arrived, before its jobs start: a lease
    /// of an answer never acknowledged (nor heartbeated) goes back at expiry without using an
    /// attempt, so it must be acknowledged before the job can do anything that should count. If no
    /// coordinator hears it, the jobs start all the same; their first heartbeat shows them received.
    private func acknowledge(_ request: String) async {
        do {
            _ = try await client.call(
                LeaseAPI.heartbeatPath,
                HeartbeatRequest(worker: configuration.workerID, leases: [], acknowledged: [request]),
                as: HeartbeatResponse.self, lane: .lease)
        } catch {
            logger.warning(
                "could not acknowledge a lease answer", metadata: ["lease.request": "\(request)", "error": "\(error)"])
        }
    }

    /// The job's logger: `job.id`, `job.kind`, `job.attempt` and the kind's fields (`bill.channel`).
    private func jobLogger(_ job: LeasedJob) -> Logger {
        var jobLogger = logger
        let metadata = configuration.logFields.metadata(
            id: job.id, kind: job.kind, attempt: job.attempt, args: job.args)
        for (key, value) in metadata { jobLogger[metadataKey: key] = "\(value)" }
        return jobLogger
    }

    // MARK: Running one job

    /// How a job's run ended: its handler returned or threw, its time ran out, or it was stopped.
    private enum RunEnd: Sendable {
        case finished(Result<JobResult, any Error>)
        case timedOut(Duration)
        case stopped(RunningJobs.Stop)
    }

    /// Runs the job's handler against its time limit and a stop from outside, in a task group of
    /// its own; the first to end decides, the others are cancelled, and the outcome is reported
    /// at once. A handler that ignores cancellation keeps its slot until it returns (the group
    /// waits for it), but its job is settled without it: failed after its time limit, or left to
    /// whoever holds the lease now; anything it commits later is refused by the fence.
    private func execute(_ job: LeasedJob, lease: LeaseRef, logger jobLogger: Logger) async {
        defer { running.remove(lease) }
        guard let handler = registry.handler(for: job.kind) else {
            // Handed back without using an attempt (a newer worker may know the kind, e.g. during a
            // rolling deploy), a little later so this worker does not take it straight back.
            await snooze(
                lease, milliseconds: 30_000, logger: jobLogger, because: "no handler for this kind on this worker")
            return
        }
        let context = JobContext(
            job: job, worker: configuration.workerID, reads: JobReads(pool: readPool), sideEffects: pool,
            logger: jobLogger)
        defer { context.cleanup.run() }
        let limit = handler.timeout ?? configuration.jobTimeout
        await withTaskGroup(of: RunEnd?.self) { group in
            group.addTask {
                do {
                    return .finished(.success(try await handler.run(context)))
                } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask { await self.running.waitForStop(lease).map(RunEnd.stopped) }
            group.addTask {
                do { try await Task.sleep(for: limit) } catch { return nil }
                return .timedOut(limit)
            }
            // Only a cancelled watcher ends with nil; the handler's task always has an answer.
            var end: RunEnd?
            while end == nil, let next = await group.next() { end = next }
            group.cancelAll()
            // The worker itself is being torn down: report nothing, the lease expires.
            guard let end, !Task.isCancelled else { return }
            await settle(end, lease: lease, context: context)
        }
    }

    private func settle(_ end: RunEnd, lease: LeaseRef, context: JobContext) async {
        let jobLogger = context.logger
        switch end {
        case .stopped(.leaseLost):
            jobLogger.warning(
                "lease lost; the job was stopped and nothing of this attempt lands", metadata: outcome(.leaseLost))
        case .stopped(.handedBack):
            // `drain` hands it back and says so.
            break
        case .timedOut(let limit):
            running.settle(lease)
            await fail(lease, JobFailure("the job ran longer than its limit of \(limit); stopped"), logger: jobLogger)
        case .finished(.failure(let error)):
            await fail(lease, error as? JobFailure ?? JobFailure("\(error)"), logger: jobLogger)
        case .finished(.success(.snooze(let delay))):
            await snooze(lease, milliseconds: delay.clampedDelayMilliseconds, logger: jobLogger)
        case .finished(.success(.complete(let writes))):
            running.markCompleting(lease)
            await report(await completions.complete(lease, writes: writes), lease: lease, context: context)
        case .finished(.success(.completeAlone(let writes))):
            running.markCompleting(lease)
            let outcome = await CompletionQueue.commit([(lease, writes)], pool: pool).first
            await report(
                outcome ?? .transactionFailed(WorkerError("the commit gave no outcome")), lease: lease,
                context: context)
        }
    }

    private func report(_ outcome: CompletionOutcome, lease: LeaseRef, context: JobContext) async {
        let jobLogger = context.logger
        switch outcome {
        case .completed:
            // Counted here, where the fenced commit decided it; the coordinator never sees completions.
            ReconMetrics.jobCompleted(kind: context.job.kind)
            context.committed.run()
            jobLogger.info("job completed", metadata: self.outcome(.completed))
        case .leaseLost:
            jobLogger.warning(
                "lease lost before completion; this attempt's writes were rolled back",
                metadata: self.outcome(.leaseLost))
        case .writesFailed, .transactionFailed:
            await fail(lease, outcome.failure ?? JobFailure("the completion failed"), logger: jobLogger)
        }
    }

    /// The words each outcome is logged with under `job.outcome`.
    enum Outcome: String {
        case completed, retried, snoozed, dead
        case leaseLost = "lease_lost"
        case handedBack = "handed_back"
        /// The coordinators could not be told; the lease expires and the reaper decides.
        case unreported
    }

    private func outcome(_ outcome: Outcome, _ more: Logger.Metadata = [:]) -> Logger.Metadata {
        more.merging(["job.outcome": "\(outcome.rawValue)"]) { $1 }
    }

    private func snooze(_ lease: LeaseRef, milliseconds: Int64, logger jobLogger: Logger, because reason: String? = nil)
        async
    {
        do {
            _ = try await client.call(
                LeaseAPI.snoozePath,
                SnoozeRequest(worker: configuration.workerID, lease: lease, delayMilliseconds: milliseconds),
                as: [String: String].self, lane: .report)
            jobLogger.log(
                level: reason == nil ? .info : .warning, "\(reason.map { "\($0); " } ?? "")job snoozed",
                metadata: outcome(.snoozed, ["job.snooze_ms": "\(milliseconds)"]))
        } catch CoordinatorCallError.leaseLost {
            jobLogger.warning("lease lost before the job could be snoozed", metadata: outcome(.leaseLost))
        } catch {
            jobLogger.warning(
                "snooze failed; the lease expires instead", metadata: outcome(.unreported, ["error": "\(error)"]))
        }
    }

    private func fail(_ lease: LeaseRef, _ failure: JobFailure, logger jobLogger: Logger) async {
        do {
            let answer = try await client.call(
                LeaseAPI.failPath,
                FailRequest(
                    worker: configuration.workerID, lease: lease, error: failure.message,
                    retryable: failure.retryable, retryAfterMilliseconds: failure.retryAfter?.clampedDelayMilliseconds),
                as: FailResponse.self, lane: .report)
            if let runAt = answer.runAt, answer.state != JobState.dead.rawValue {
                jobLogger.warning(
                    "job failed; it runs again later",
                    metadata: outcome(
                        .retried,
                        ["error": "\(failure.message)", "job.retry_at": "\(PGTimestamp(microsecondsSince1970: runAt))"])
                )
            } else {
                jobLogger.error(
                    failure.retryable
                        ? "job failed on its last attempt; it is dead" : "job failed for good; it is dead",
                    metadata: outcome(.dead, ["error": "\(failure.message)"]))
            }
        } catch CoordinatorCallError.leaseLost {
            jobLogger.warning(
                "lease lost before the failure could be recorded",
                metadata: outcome(.leaseLost, ["error": "\(failure.message)"]))
        } catch {
            // The lease expires and the reaper counts the attempt; nothing is lost.
            jobLogger.warning(
                "could not report the job's failure; the lease expires instead",
                metadata: outcome(.unreported, ["error": "\(failure.message)", "report.error": "\(error)"]))
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
                    as: HeartbeatResponse.self, lane: .heartbeat)
                // Each stopped job says so itself, once.
                running.leasesLost(answer.lost)
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// After leasing stopped: give running jobs the grace period (returning as soon as the last
    /// one ends), then stop and hand back the rest.
    private func drain() async {
        let grace = configuration.gracePeriod
        await withTaskGroup(of: Void.self) { race in
            race.addTask { await self.running.waitUntilIdle() }
            race.addTask { try? await Task.sleep(for: grace) }
            await race.next()
            race.cancelAll()
        }
        let unfinished = running.handBack()
        guard !unfinished.isEmpty else { return }
        logger.warning(
            "grace period over; handing back unfinished jobs", metadata: ["jobs.count": "\(unfinished.count)"])
        await release(unfinished)
    }

    /// Hands leases back without using an attempt, and logs each job's outcome.
    private func release(_ jobs: [(lease: LeaseRef, logger: Logger)]) async {
        guard !jobs.isEmpty else { return }
        do {
            let answer = try await client.call(
                LeaseAPI.releasePath, ReleaseRequest(worker: configuration.workerID, leases: jobs.map(\.lease)),
                as: ReleaseResponse.self, lane: .report)
            let released = Set(answer.released)
            for (lease, jobLogger) in jobs {
                if released.contains(lease.id) {
                    jobLogger.notice("job handed back; no attempt used", metadata: outcome(.handedBack))
                } else {
                    jobLogger.warning("lease lost before the job could be handed back", metadata: outcome(.leaseLost))
                }
            }
        } catch {
            for (_, jobLogger) in jobs {
                jobLogger.warning(
                    "could not hand the job back; its lease expires instead",
                    metadata: outcome(.unreported, ["error": "\(error)"]))
            }
        }
    }
}

public struct WorkerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
