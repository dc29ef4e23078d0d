import ArgumentParser
import Foundation
import Logging
import ReconBlocking
import ReconCoordinator
import ReconCore
import ReconEmbeddedPostgres
import ReconFixtures
import ReconMockChannel
import ReconPostgres
import ReconStore

/// `recon demo`: a whole business day and the next, end to end, with nothing to set up.
///
/// A private PostgreSQL cluster (or `RECON_DATABASE_URL`), migrated; a mock of the four channel
/// formats; a synthetic day of payment legs (combination payments over channels and virtual
/// accounts, refunds, fees, discrepancies of every status, payments that cross midnight) and the
/// day after, imported; a coordinator in this process and worker processes beside it; each day
/// run to settlement through its `run_day` job, with progress; then what came of it.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Reconcile and settle two synthetic days end to end, on a private PostgreSQL cluster.",
        discussion: """
            Uses RECON_DATABASE_URL instead of a private cluster when it is set (the demo's rows stay there).
            The mock makes Alipay fail twice and UnionPay answer "not ready" once, so a retry and a snooze show.
            """)

    @Option(help: "Payment legs a day (about; the generator decides the exact mix).") var legs = 100_000
    @Option(help: "Worker processes to start.") var workers = 3
    @Flag(help: "Keep the cluster, the coordinator and the files after the run, until Ctrl-C.") var keep = false

    func validate() throws {
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1 to 16") }
        guard (10...5_000_000).contains(legs) else { throw ValidationError("--legs must be 10 to 5,000,000") }
    }

    func run() async throws {
        let started = ContinuousClock.now
        let interrupt = DemoInterrupt()
        if let url = ProcessInfo.processInfo.environment["RECON_DATABASE_URL"], !url.isEmpty {
            printNow("using the database of RECON_DATABASE_URL")
            try await demo(database: url, shown: "RECON_DATABASE_URL's", started: started, interrupt: interrupt)
        } else {
            printNow("starting a private PostgreSQL cluster…")
            try await EmbeddedPostgres.withCluster { cluster in
                printNow("cluster: \(cluster.directory)")
                try await demo(
                    database: cluster.connectionString(), shown: cluster.connectionString(), started: started,
                    interrupt: interrupt)
            }
            printNow("the cluster is stopped and removed")
        }
    }

    /// `shown` names the database in messages: never a URL from the environment, which may hold a password.
    private func demo(database: String, shown: String, started: ContinuousClock.Instant, interrupt: DemoInterrupt)
        async throws
    {
        let report = try await runMigrations(connectionString: database)
        let pool = PGPool(connectionString: database, maxConnections: 2)
        defer { pool.close() }
        // The demo writes synthetic days and runs its own workers against every queue: never into a
        // database that holds anything of Recon's already (production's, or an earlier demo's).
        let used =
            try await pool.query(
                """
                SELECT (SELECT count(*) FROM recon_jobs) + (SELECT count(*) FROM payment_legs)
                    + (SELECT count(*) FROM bill_fetches)
                """
            ).first?.decode(Int64.self, at: 0) ?? 0
        guard used == 0 else {
            throw DemoError(
                "\(shown) database already holds jobs, payments or bills: the demo runs only on an empty one "
                    + "(unset RECON_DATABASE_URL for a private cluster)")
        }
        printNow("migrations: \(report.currentVersion) (\(report.applied.count) applied now)")

        // Two days in the past (their bills are published): D, and D+1 where D's carried items land.
        let first = LocalDay.beijingToday(offset: -2)
        let days = try DemoDays(legs: legs, firstDay: first, keep: keep)
        defer { if !keep { days.remove() } }
        if !keep { interrupt.cleanUp(folder: days.folder) }
        let mock = try await days.startMock(faults: [
            Fault(channel: "alipay", date: first.description, kind: .fail503, times: 2),
            Fault(channel: "unionpay", date: first.description, kind: .notReady, times: 1),
        ])
        defer { mock.cancel() }
        printNow("mock channel server in this process: Alipay, WeChat Pay, UnionPay and a bank, in their wire formats")

        for synthetic in [days.first, days.first.on(first.adding(days: 1))] {
            let given = try await days.give(synthetic, pool: pool)
            printNow(
                "\(synthetic.day): \(given.summary.lines.reduce(0, +)) bill lines over \(synthetic.channels.count) "
                    + "channels written (\(Self.text(given.generated))); \(given.legs) payment legs and "
                    + "\(given.entries) ledger entries imported (\(Self.text(given.imported)))")
        }

        // The API token: RECON_API_TOKEN when set, or one made for this run only; the workers get it
        // through their environment, and with --keep a person logs in to the dashboard with it.
        var random = SystemRandomNumberGenerator()
        let givenToken = ProcessInfo.processInfo.environment["RECON_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let token = givenToken ?? (0..<32).map { _ in String(random.next() % 16, radix: 16) }.joined()
        var logger = Logger(label: "recon.demo.coordinator")
        logger.logLevel = .warning
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let (stopSignal, stopSink) = AsyncStream.makeStream(of: Void.self)
        let coordinator = Task {
            try await Coordinator.run(
                CoordinatorConfiguration(
                    host: "127.0.0.1", port: 0, databaseURL: database, apiToken: token, logFields: .recon),
                logger: logger, onListening: { port in portSink.yield(port) },
                until: { for await _ in stopSignal { return } })
        }
        defer { stopSink.finish() }
        var portIterator = ports.makeAsyncIterator()
        guard let port = await portIterator.next() else { throw DemoError("the coordinator did not start") }
        let url = "http://127.0.0.1:\(port)"
        printNow("coordinator on \(url) (in this process)")

        let children = try DemoWorkers.start(
            count: workers, coordinator: url, token: token, database: database, days: days
        ) { interrupt.cleanUp(workers: $0) }
        defer { children.stop() }
        printNow("started \(workers) worker processes (pids \(children.pids.map(String.init).joined(separator: ", ")))")

        let terminal = isatty(STDOUT_FILENO) == 1
        for day in [first, first.adding(days: 1)] {
            let runJob = try await RunDayCommand.enqueue(day, pool: pool, terminal: terminal)
            printNow("run_day \(day): job \(runJob)")
            switch try await RunDayCommand.follow(
                runJob, pool: pool, terminal: terminal, until: ContinuousClock.now + .seconds(1800))
            {
            case .settled:
                printNow("\(day) settled")
            case .dead(let dead):
                throw DemoError("\(day) did not settle: \(dead.kind) job \(dead.id) is \(dead.state): \(dead.error)")
            case .timedOut:
                throw DemoError("\(day) did not settle within 30 minutes")
            }
        }
        try await pool.withConnection { connection in
            try DemoSummary.print(days: [first, first.adding(days: 1)], settlements: days.settlements, on: connection)
        }
        printNow("the whole run took \(Self.seconds(since: started))")

        if keep {
            // The made-up token is this run's only; one given in RECON_API_TOKEN is not repeated.
            let login = givenToken == nil ? "the token \(token), made for this run" : "the token in RECON_API_TOKEN"
            printNow(
                """
                kept: the coordinator on \(url), the database (\(shown)), the workers and the files in \(days.folder); \
                Ctrl-C stops everything.
                dashboard: \(url)/
                log in to it with \(login)
                """)
            await interrupt.waitForInterrupt()
        }
        // Up to 10 s of waiting for the workers: on a thread of its own, not the cooperative pool
        // that the coordinator taking their leases back runs on.
        try await BlockingExecutor.shared.run { children.stop() }
        printNow("workers stopped (SIGTERM)")
        stopSink.finish()
        _ = await coordinator.result
    }

    static func seconds(since start: ContinuousClock.Instant) -> String { text(ContinuousClock.now - start) }

    /// "12.3 s".
    static func text(_ elapsed: Duration) -> String {
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }
}
