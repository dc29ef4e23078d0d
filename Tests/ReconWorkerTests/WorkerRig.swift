import Foundation
import Logging
import ReconCoordinator
import ReconJobs
import ReconPostgres
import ReconTestSupport
import ServiceLifecycle

@testable import ReconWorker

/// A handler made of a closure, for tests.
struct TestHandler: JobHandler {
    var timeout: Duration?
    let body: @Sendable (JobContext) async throws -> JobResult

    init(timeout: Duration? = nil, _ body: @escaping @Sendable (JobContext) async throws -> JobResult) {
        self.timeout = timeout
        self.body = body
    }

    func run(_ context: JobContext) async throws -> JobResult { try await body(context) }
}

/// A coordinator and a worker in this process, against a fresh database, their logs kept.
struct WorkerRig: Sendable {
    static let token = "worker-test-token-0123456789"

    let pool: PGPool
    let workerLog: LogRecorder
    let coordinatorLog: LogRecorder
    let services: ServiceGroup
    let workerStopped: AsyncStream<Void>
    /// The proxy between worker and coordinator, when lease answers are dropped.
    let dropper: AnswerDropper?

    /// `job.kind` "bill" logs its `channel` and `date` as `bill.channel` and `bill.date`.
    static var fields: JobLogFields {
        var fields = JobLogFields()
        fields.register(kind: "bill", argument: "channel", as: "bill.channel")
        fields.register(kind: "bill", argument: "date", as: "bill.date")
        return fields
    }

    /// Runs `test` with the worker running; then stops the worker (gracefully, as SIGTERM does)
    /// unless the test did, and the coordinator.
    static func run(
        registry: JobRegistry, slots: Int = 4, grace: Duration = .seconds(20), leaseMilliseconds: Int64 = 10_000,
        dropLeaseAnswers: Int = 0, _ test: @Sendable (WorkerRig) async throws -> Void
    ) async throws {
        let database = try await TestPostgres.migratedDatabase("worker")
        let pool = PGPool(connectionString: database, maxConnections: 2)
        defer { pool.close() }
        let workerLog = LogRecorder()
        let coordinatorLog = LogRecorder()
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let (stopCoordinator, stopSink) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { coordinatorGroup in
            coordinatorGroup.addTask {
                try await Coordinator.run(
                    CoordinatorConfiguration(
                        host: "127.0.0.1", port: 0, databaseURL: database, apiToken: token,
                        leaseMilliseconds: leaseMilliseconds, reapInterval: .milliseconds(200), logFields: fields),
                    logger: coordinatorLog.logger(label: "coordinator", level: .info),
                    onListening: { portSink.yield($0) }, until: { for await _ in stopCoordinator { return } })
            }
            defer { stopSink.finish() }
            var portIterator = ports.makeAsyncIterator()
            guard let port = await portIterator.next() else { throw WorkerError("the coordinator did not start") }
            let coordinator = "http://127.0.0.1:\(port)"
            @Sendable func runWorker(_ url: String, _ dropper: AnswerDropper?) async throws {
                let worker = Worker(
                    configuration: WorkerConfiguration(
                        coordinators: [url], apiToken: token, databaseURL: database,
                        workerID: "test-worker", slots: slots, leaseWaitMilliseconds: 200, gracePeriod: grace,
                        jobTimeout: .seconds(60), logFields: fields),
                    registry: registry, logger: workerLog.logger(label: "worker", level: .info))
                let services = ServiceGroup(
                    configuration: .init(services: [.init(service: worker)], logger: workerLog.logger(level: .warning)))
                let (stopped, stoppedSink) = AsyncStream.makeStream(of: Void.self)
                try await withThrowingTaskGroup(of: Void.self) { workerGroup in
                    workerGroup.addTask {
                        defer { stoppedSink.finish() }
                        try await services.run()
                    }
                    let rig = WorkerRig(
                        pool: pool, workerLog: workerLog, coordinatorLog: coordinatorLog, services: services,
                        workerStopped: stopped, dropper: dropper)
                    do {
                        try await test(rig)
                    } catch {
                        await services.triggerGracefulShutdown()
                        throw error
                    }
                    await services.triggerGracefulShutdown()
                    try await workerGroup.waitForAll()
                }
            }
            if dropLeaseAnswers > 0 {
                let dropper = AnswerDropper(coordinator: coordinator, drops: dropLeaseAnswers)
                try await dropper.serve { url in try await runWorker(url, dropper) }
            } else {
                try await runWorker(coordinator, nil)
            }
            stopSink.finish()
            try await coordinatorGroup.waitForAll()
        }
    }

    /// Asks the worker to stop, as SIGTERM does, and returns how long it took to stop.
    func stopWorker() async -> Duration {
        let started = ContinuousClock.now
        await services.triggerGracefulShutdown()
        for await _ in workerStopped {}
        return ContinuousClock.now - started
    }

    func enqueue(_ jobs: [NewJob]) async throws -> [Int64] {
        try await pool.transaction { try JobLedger.enqueue(jobs, on: $0) }.map(\.id)
    }

    func job(_ id: Int64) async throws -> (state: String, attempt: Int) {
        guard let row = try await pool.query("SELECT state, attempt FROM recon_jobs WHERE id = $1", [id]).first else {
            throw WorkerError("no job \(id)")
        }
        return (try row.decode(String.self, at: 0), try row.decode(Int.self, at: 1))
    }

    func errors(_ id: Int64) async throws -> String {
        try await pool.query("SELECT errors::text FROM recon_jobs WHERE id = $1", [id]).first?.decode(
            String.self, at: 0) ?? ""
    }

    /// The worker's outcome lines for a job: `job.outcome` by `job.attempt`, in the order logged.
    func outcomes(_ id: Int64, in log: LogRecorder? = nil) -> [String] {
        (log ?? workerLog).lines(where: "job.id", is: "\(id)").compactMap { line in
            line.metadata["job.outcome"].map { "\(line.metadata["job.attempt"] ?? "?"):\($0)" }
        }
    }

    /// Polls until `condition` holds (or fails after `timeout`).
    func until(
        _ what: String, timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool
    ) async throws {
        try await eventually(what, timeout: timeout, every: .milliseconds(50), condition)
    }
}
