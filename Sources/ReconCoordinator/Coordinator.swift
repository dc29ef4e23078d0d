import Hummingbird
public import Logging
public import ReconConfig
public import ReconCore
import ReconDashboard
public import ReconJobs
import ReconPostgres
public import ServiceLifecycle
import UnixSignals

/// What a coordinator needs. Secrets (the database URL's password, the API token) are held here
/// and never logged.
public struct CoordinatorConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var apiToken: String
    public var leaseMilliseconds: Int64
    public var reapInterval: Duration
    public var retentionMilliseconds: Int64
    public var maxConnections: Int
    /// The job files' schedules; empty for a coordinator that only leases.
    public var schedules: [ScheduleDefinition]
    public var schedulerTick: Duration
    /// The job arguments each kind's log lines carry (`bill.channel`, `bill.date`).
    public var logFields: JobLogFields

    public init(
        host: String = "127.0.0.1", port: Int = 7070, databaseURL: String, apiToken: String,
        leaseMilliseconds: Int64 = 30_000, reapInterval: Duration = .seconds(1),
        retentionMilliseconds: Int64 = 30 * 86_400_000, maxConnections: Int = 8, schedules: [ScheduleDefinition] = [],
        schedulerTick: Duration = .seconds(1), logFields: JobLogFields = JobLogFields()
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.apiToken = apiToken
        self.leaseMilliseconds = leaseMilliseconds
        self.reapInterval = reapInterval
        self.retentionMilliseconds = retentionMilliseconds
        self.maxConnections = maxConnections
        self.schedules = schedules
        self.schedulerTick = schedulerTick
        self.logFields = logFields
    }
}

/// `recon coordinator`: a stateless lease broker over the job table. Several may run against one
/// database; each serves the HTTP API and runs the maintenance loops.
public enum Coordinator {
    /// The HTTP API: `/healthz`, `/metrics`, the lease routes behind the bearer token, and the
    /// dashboard (`/`, `/days/…`, `/jobs`, behind its login) when given.
    static func router(
        _ configuration: CoordinatorConfiguration, pool: PGPool, wakeups: JobWakeups, outcomes: JobOutcomeLog,
        dashboard: Dashboard? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router()
        LeaseRoutes(
            pool: pool, wakeups: wakeups, leaseMilliseconds: configuration.leaseMilliseconds, outcomes: outcomes
        ).register(on: router, token: Array(configuration.apiToken.utf8))
        MetricsRoute(pool: pool).register(on: router)
        dashboard?.register(on: router)
        return router
    }

    /// Runs until SIGTERM or SIGINT. `onListening` gets the bound port once the server accepts.
    /// `until`, when given, is awaited alongside; when it returns the coordinator shuts down
    /// gracefully, as on SIGTERM (the demo runs a coordinator in its own process this way).
    /// `alongside` run in the same service group, listed last: at shutdown they are told first.
    public static func run(
        _ configuration: CoordinatorConfiguration, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        until stop: (@Sendable () async -> Void)? = nil,
        alongside: [any Service] = []
    ) async throws {
        let pool = PGPool(connectionString: configuration.databaseURL, maxConnections: configuration.maxConnections)
        defer { pool.close() }
        let wakeups = JobWakeups()
        let outcomes = JobOutcomeLog(logger: logger, fields: configuration.logFields)
        // The dashboard reads through connections of its own, so that a person's page never
        // holds one a worker's lease call waits for.
        let dashboardPool = PGPool(connectionString: configuration.databaseURL, maxConnections: 2)
        defer { dashboardPool.close() }
        let dashboard = await Dashboard.load(pool: dashboardPool, apiToken: configuration.apiToken, logger: logger)
        let router = Self.router(
            configuration, pool: pool, wakeups: wakeups, outcomes: outcomes, dashboard: dashboard)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
        let maintenance = MaintenanceService(
            pool: pool, wakeups: wakeups, listenerConnectionString: configuration.databaseURL,
            reapInterval: configuration.reapInterval, retentionMilliseconds: configuration.retentionMilliseconds,
            logger: logger, outcomes: outcomes)
        let scheduler = SchedulerService(
            pool: pool, schedules: configuration.schedules, tick: configuration.schedulerTick, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: app), .init(service: maintenance),
                    // A coordinator with no schedules has a scheduler that returns at once.
                    .init(service: scheduler, successTerminationBehavior: .ignore),
                ] + alongside.map { .init(service: $0, successTerminationBehavior: .ignore) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        guard let stop else { return try await group.run() }
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await group.run()
                return true
            }
            tasks.addTask {
                await stop()
                await group.triggerGracefulShutdown()
                return false
            }
            // Wait for the service group itself; the stop task only asks it to end.
            while let finished = try await tasks.next() {
                if finished {
                    tasks.cancelAll()
                    return
                }
            }
        }
    }
}
