import ArgumentParser
import Foundation
import Logging
import ReconBlocking
import ReconCoordinator
import ReconEmbeddedPostgres
import ReconJobs
import ReconPostgres
import ReconStore

/// `recon demo`: the whole system on the embedded default, no setup needed.
///
/// It starts a private PostgreSQL cluster, migrates it, runs a coordinator in this process and
/// worker processes beside it, and pushes a batch of probe jobs through them, with one job that
/// waits for all the others. Then it fetches yesterday's bill from a mock of each channel format
/// (Alipay, WeChat Pay, UnionPay, a bank file) and stages them. Matching joins it when it lands.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run Recon end to end on a private PostgreSQL cluster.")

    @Option(help: "Worker processes to start.") var workers = 2
    @Option(help: "Probe jobs to run.") var jobs = 2_000
    @Option(name: .customLong("bill-lines"), help: "Lines in each mock channel bill.") var billLines = 2_000

    func validate() throws {
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1 to 16") }
        guard (1...1_000_000).contains(jobs) else { throw ValidationError("--jobs must be 1 to 1,000,000") }
    }

    func run() async throws {
        print("starting a private PostgreSQL cluster…")
        try await EmbeddedPostgres.withCluster { cluster in try await demo(on: cluster) }
        print("demo finished; the cluster is stopped and removed")
    }

    private func demo(on cluster: EmbeddedPostgres) async throws {
        print("cluster: \(cluster.directory) (binaries: \(cluster.binDirectory))")
        let database = cluster.connectionString()
        let report = try await runMigrations(connectionString: database)
        let pool = PGPool(connectionString: database, maxConnections: 2)
        defer { pool.close() }
        let version = try await pool.query("SHOW server_version").first?.decode(String.self, at: 0) ?? "?"
        print("PostgreSQL \(version); migrations applied: \(report.applied.map(\.name).joined(separator: ", "))")

        // A token for this run only, shared with the workers through their environment.
        var random = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(random.next() % 16, radix: 16) }.joined()
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
        guard let port = await portIterator.next() else { throw ValidationError("the coordinator did not start") }
        let url = "http://127.0.0.1:\(port)"
        print("coordinator listening on \(url) (in this process)")
        let bills = try DemoBills()
        defer { bills.remove() }
        let mock = try await bills.startMock(lines: billLines)
        defer { mock.cancel() }

        let total = jobs
        let probes = try await pool.transaction { connection in
            try JobLedger.enqueue((0..<total).map { _ in NewJob(kind: "probe") }, on: connection)
        }.map(\.id)
        let last = try await pool.transaction { connection in
            try JobLedger.enqueue([NewJob(kind: "noop", queue: "default", dependsOn: probes)], on: connection)
        }[0].id
        print("enqueued \(total) probe jobs, and job \(last) that waits for all of them")

        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let start = ContinuousClock.now
        var children: [Process] = []
        for index in 0..<workers {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = [
                "worker", "--coordinator", url, "--slots", "16", "--worker-id", "demo-worker-\(index)", "--queues",
                "default,bills",
                "--jobs", bills.jobs, "--download-dir", bills.downloads, "--archive-dir", bills.archive,
            ]
            child.environment = ProcessInfo.processInfo.environment.merging([
                "RECON_API_TOKEN": token, "RECON_DATABASE_URL": database, "RECON_LOG_LEVEL": "warning",
            ]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            children.append(child)
        }
        defer { for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) } }
        print("started \(workers) worker processes with 16 slots each")

        while try await pool.query("SELECT state FROM recon_jobs WHERE id = $1", [last]).first?
            .decode(String.self, at: 0) != JobState.completed.rawValue
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let recorded = try await pool.query("SELECT count(*), count(DISTINCT worker) FROM recon_probe_runs").first
        let runs = try recorded?.decode(Int64.self, at: 0) ?? 0
        let byWorkers = try recorded?.decode(Int64.self, at: 1) ?? 0
        print(
            "\(runs) probe jobs completed exactly once by \(byWorkers) workers in "
                + String(format: "%.2f s (%.0f jobs/s)", seconds, Double(runs) / max(seconds, 0.001))
                + "; then job \(last) ran")

        try await bills.fetchAll(pool: pool)

        for child in children { child.terminate() }
        for child in children { child.waitUntilExit() }
        print("workers stopped (SIGTERM)")
        stopSink.finish()
        _ = await coordinator.result
    }
}
