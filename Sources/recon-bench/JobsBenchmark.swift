import ArgumentParser
import Foundation
import ReconBlocking
import ReconCore
import ReconEmbeddedPostgres
import ReconHTTP
import ReconJobs
import ReconPostgres
import ReconStore

/// No-op jobs leased and completed end to end: a real coordinator and real worker processes
/// (`recon` next to this binary), the lease API over HTTP, completions fenced and committed with
/// synchronous_commit on against a cluster with fsync on. Prints jobs/s and lease latency; beside
/// it, in the same run and cluster, PGQueuer draining the same number of no-op jobs with 2 worker
/// processes, and the ratio; and lease latency with a million rows not yet due against none.
struct JobsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract:
            "No-op job throughput with 1, 2 and 4 worker processes, beside PGQueuer; lease latency with rows not yet due."
    )

    @Option(help: "Jobs per run.") var jobs = 50_000
    @Option(help: "Worker process counts to run, comma-separated.") var workers = "1,2,4"
    @Option(help: "Slots per worker.") var slots = 256
    @Flag(help: "Run the cluster with fsync off (the default keeps it on: durable commits).") var fast = false
    @Flag(help: "Leave PGQueuer out (the test script's tiny run).") var skipPeer = false
    @Option(help: "Rounds: each runs every worker count, then PGQueuer (the machine's noise falls on both).")
    var rounds = 1
    @Option(help: "PGQueuer worker processes.") var peerWorkers = 2
    @Option(help: "PGQueuer's --batch-size (jobs each dequeue takes).") var peerBatch = 200
    @Option(help: "The python with PGQueuer (default: the one scripts/bench-venv makes).") var peerPython: String?
    @Option(help: "Rows not yet due for the lease-latency comparison (0: skip it).") var notDue = 0
    @Option(help: "Jobs run through 2 workers in each half of the not-yet-due comparison.") var dueJobs = 20_000
    @Option(help: "Idle lease calls (nothing due, no wait) timed in each half of the comparison.") var idleCalls = 2000

    func run() async throws {
        let counts = workers.split(separator: ",").compactMap { Int($0) }
        try await EmbeddedPostgres.withCluster(options: .init(durable: !fast, settings: ["synchronous_commit": "on"])) {
            cluster in
            print(
                "jobs per run: \(jobs), slots per worker: \(slots), fsync: \(fast ? "off" : "on"), synchronous_commit: on"
            )
            var ratios: [Double] = []
            for round in 1...max(1, rounds) {
                if rounds > 1 { print("round \(round):") }
                var rates: [Int: Double] = [:]
                for count in counts {
                    let name = "bench_\(count)_\(round)"
                    let database = try await BlockingExecutor.shared.run { try cluster.createDatabase(name) }
                    let run = try await measure(database: database, workerCount: count, jobs: jobs)
                    rates[count] = run.rate
                    print("\(count) worker(s): \(run.summary)")
                }
                guard !skipPeer else { continue }
                let database = "bench_pgqueuer_\(round)"
                _ = try await BlockingExecutor.shared.run { try cluster.createDatabase(database) }
                let python: String
                if let peerPython { python = peerPython } else { python = try await Self.benchVenvPython() }
                let peer = try await PGQueuerRun(
                    python: python, socketDirectory: cluster.directory,
                    database: database, jobs: jobs, workers: peerWorkers, batch: peerBatch
                ).measure()
                print(
                    "PGQueuer (\(peerWorkers) worker processes, drain mode, --batch-size \(peerBatch), uvloop): "
                        + "\(jobs) jobs in \(String(format: "%.2f", peer.seconds)) s = \(Int(peer.rate)) jobs/s")
                if let recon = rates[peerWorkers] {
                    ratios.append(recon / peer.rate)
                    print(
                        "ratio Recon (\(peerWorkers) workers) / PGQueuer (\(peerWorkers) processes): "
                            + String(format: "%.2f", recon / peer.rate))
                }
            }
            if ratios.count > 1 {
                let sorted = ratios.sorted()
                print(
                    "ratios over \(ratios.count) rounds: \(ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ")); "
                        + "median \(String(format: "%.2f", sorted[sorted.count / 2]))")
            }
            if notDue > 0 { try await compareNotDue(cluster) }
            print("JSON bodies: \(JSONCost.measure(jobs: slots))")
        }
    }

    struct Run {
        var seconds: Double
        var rate: Double
        var p50: [Int64]
        var p99: [Int64]
        var summary: String
    }

    private func measure(database: String, workerCount: Int, jobs total: Int) async throws -> Run {
        let migrations = try Migration.bundled()
        let pool = PGPool(connectionString: database, maxConnections: 2)
        defer { pool.close() }
        _ = try await pool.withConnection { try MigrationRunner(migrations: migrations).migrate($0) }
        for start in stride(from: 0, to: total, by: 10_000) {
            let batch = (start..<min(total, start + 10_000)).map { _ in NewJob(kind: "noop") }
            _ = try await pool.transaction { try JobLedger.enqueue(batch, on: $0) }
        }
        let (coordinator, url) = try await startCoordinator(database: database)
        defer { coordinator.stop() }
        let start = ContinuousClock.now
        let workers = try (0..<workerCount).map { index in
            try BenchProcess(
                arguments: ["worker", "--coordinator", url, "--slots", String(slots), "--worker-id", "bench-\(index)"],
                environment: environment(database))
        }
        // Counts what is left through the partial indexes, so the polling costs the server little.
        while try await pool.query("SELECT count(*) FROM recon_jobs WHERE state IN ('available', 'running')").first?
            .decode(Int64.self, at: 0) ?? 1 > 0
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        for worker in workers { worker.stop() }
        var p50: [Int64] = [], p99: [Int64] = []
        for worker in workers {
            _ = try await worker.waitForLine(containing: "worker stopped")
            let summary = worker.output
            p50.append(Int64(field(summary, "lease.p50_us")) ?? -1)
            p99.append(Int64(field(summary, "lease.p99_us")) ?? -1)
        }
        // Every job completed exactly once.
        let completed =
            try await pool.query(
                "SELECT count(*) FROM recon_jobs WHERE kind = 'noop' AND state = 'completed' AND attempt = 1"
            ).first?.decode(Int64.self, at: 0) ?? 0
        let rate = Double(total) / seconds
        let summary =
            "\(total) jobs in \(String(format: "%.2f", seconds)) s = \(Int(rate)) jobs/s; lease call p50 "
            + "\(p50.map(String.init).joined(separator: "/")) µs, p99 \(p99.map(String.init).joined(separator: "/")) µs "
            + "(per worker); completed once: \(completed)"
        return Run(seconds: seconds, rate: rate, p50: p50, p99: p99, summary: summary)
    }

    private func environment(_ database: String) -> [String: String] {
        ["RECON_API_TOKEN": Self.token, "RECON_DATABASE_URL": database, "RECON_LOG_LEVEL": "info"]
    }

    static let token = "bench-token-0123456789abcdef"

    private func startCoordinator(database: String) async throws -> (BenchProcess, String) {
        let coordinator = try BenchProcess(
            arguments: ["coordinator", "--listen", "127.0.0.1:0"], environment: environment(database))
        let line = try await coordinator.waitForLine(containing: "coordinator listening on")
        return (coordinator, "http://127.0.0.1:" + (line.split(separator: ":").last.map(String.init) ?? "0"))
    }

    // MARK: Rows not yet due

    /// The same lease calls on an empty table and beside `notDue` rows waiting for tomorrow (half
    /// scheduled, half retryable, as a channel down for hours leaves them), each database with a
    /// coordinator of its own. Idle calls (nothing due, no wait) go to the two in turn, so that
    /// whatever else the machine does falls on both alike; then `dueJobs` no-op jobs through 2
    /// workers on each, twice, in turns.
    private func compareNotDue(_ cluster: EmbeddedPostgres) async throws {
        print("lease latency beside rows not yet due (\(notDue) rows; \(dueJobs) jobs through 2 workers, twice):")
        var urls: [String] = []
        var coordinators: [BenchProcess] = []
        var databases: [String] = []
        defer { for coordinator in coordinators { coordinator.stop() } }
        for rows in [0, notDue] {
            let database = try await BlockingExecutor.shared.run { try cluster.createDatabase("bench_due_\(rows)") }
            try await addRowsNotYetDue(rows, database: database)
            let (coordinator, url) = try await startCoordinator(database: database)
            databases.append(database)
            coordinators.append(coordinator)
            urls.append(url)
        }
        let idle = try await idleLatencies(urls: urls)
        var busy: [[Run]] = [[], []]
        for _ in 0..<2 {
            for half in 0..<2 {
                busy[half].append(try await measure(database: databases[half], workerCount: 2, jobs: dueJobs))
            }
        }
        var p50s: [Double] = [], p99s: [Double] = []
        for (half, label) in ["empty table", "\(notDue) not yet due"].enumerated() {
            // Each run's workers' percentiles, averaged over workers and runs.
            let p50 = Double(busy[half].flatMap(\.p50).reduce(0, +)) / Double(max(1, busy[half].flatMap(\.p50).count))
            let p99 = Double(busy[half].flatMap(\.p99).reduce(0, +)) / Double(max(1, busy[half].flatMap(\.p99).count))
            p50s.append(p50)
            p99s.append(p99)
            print(
                "  \(label): idle lease call p50 \(percentile(idle[half], 0.5)) µs, p99 \(percentile(idle[half], 0.99)) µs "
                    + "(\(idle[half].count) calls); busy (2 workers) lease call p50 \(Int(p50)) µs, p99 \(Int(p99)) µs, "
                    + busy[half].map { "\(Int($0.rate)) jobs/s" }.joined(separator: " and "))
        }
        func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2f", a / max(1, b)) }
        print(
            "  ratio (not yet due / empty): idle p50 "
                + ratio(Double(percentile(idle[1], 0.5)), Double(percentile(idle[0], 0.5))) + ", idle p99 "
                + ratio(Double(percentile(idle[1], 0.99)), Double(percentile(idle[0], 0.99))) + ", busy p50 "
                + ratio(p50s[1], p50s[0]) + ", busy p99 " + ratio(p99s[1], p99s[0]))
    }

    /// Migrates the database and adds `rows` rows that fall due from tomorrow on.
    private func addRowsNotYetDue(_ rows: Int, database: String) async throws {
        let pool = PGPool(connectionString: database, maxConnections: 1)
        defer { pool.close() }
        _ = try await pool.withConnection { try MigrationRunner(migrations: try Migration.bundled()).migrate($0) }
        guard rows > 0 else { return }
        try await pool.query(
            """
            INSERT INTO recon_jobs (kind, queue, state, attempt, run_at)
            SELECT 'noop', 'default', CASE WHEN g % 2 = 0 THEN 'scheduled' ELSE 'retryable' END, g % 2,
                   now() + interval '1 day' + g * interval '10 milliseconds'
            FROM generate_series(1, $1) AS g
            """, [rows], name: "bench: rows not yet due")
        try await pool.query("VACUUM ANALYZE recon_jobs")
    }

    /// `idleCalls` lease calls that find nothing, to each coordinator in turn, after 20 each to warm
    /// up; each coordinator's latencies, sorted.
    private func idleLatencies(urls: [String]) async throws -> [[Int64]] {
        let clients = urls.map { _ in HTTPClient(keepAlive: KeptAliveHandles()) }
        var latencies: [[Int64]] = urls.map { _ in [] }
        for call in 0..<(idleCalls + 20) {
            for (index, url) in urls.enumerated() {
                let body = try JSONEncoder().encode(
                    LeaseRequest(worker: "bench-idle", queues: ["default"], count: 10, waitMilliseconds: 0))
                let started = ContinuousClock.now
                let result = try await clients[index].send(
                    ReconHTTP.HTTPRequest(
                        method: .post, url: url + LeaseAPI.leasePath,
                        headers: ["Authorization": "Bearer \(Self.token)", "Content-Type": "application/json"],
                        body: body))
                let elapsed = ContinuousClock.now - started
                guard result.status == 200 else { throw ValidationError("idle lease call failed: \(result)") }
                if call >= 20 { latencies[index].append(elapsed.inMicroseconds) }
            }
        }
        return latencies.map { $0.sorted() }
    }

    private func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    private func field(_ text: String, _ key: String) -> String {
        guard let range = text.range(of: key + "=") else { return "?" }
        return String(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// The python of the environment `scripts/bench-venv` makes (run from the repository's root).
    static func benchVenvPython() async throws -> String {
        let script = FileManager.default.currentDirectoryPath + "/scripts/bench-venv"
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw ValidationError(
                "run recon-bench jobs from the repository's root (it runs scripts/bench-venv), or pass --peer-python")
        }
        let process = try BenchProcess(executable: script, arguments: [], environment: [:])
        let status = try await process.waitForExit()
        let python = process.output.split(separator: "\n").last.map(String.init) ?? ""
        guard status == 0, FileManager.default.isExecutableFile(atPath: python) else {
            throw ValidationError("scripts/bench-venv failed:\n\(process.output.suffix(2000))")
        }
        return python
    }
}

/// PGQueuer draining no-op jobs on the same cluster: its schema installed (durable tables, its
/// default), `jobs` enqueued with its batch API, then `workers` processes of its own runner
/// (`pgqueuer.run`, what `pgq run` calls, in drain mode with `--batch-size N`, on uvloop) timed
/// until all have exited (scripts/bench/pgqueuer_noop.py).
struct PGQueuerRun {
    var python: String
    var socketDirectory: String
    var database: String
    var jobs: Int
    var workers: Int
    var batch: Int

    var environment: [String: String] {
        ["PGHOST": socketDirectory, "PGPORT": "5432", "PGUSER": "recon", "PGDATABASE": database]
    }

    func measure() async throws -> (seconds: Double, rate: Double) {
        let folder = FileManager.default.currentDirectoryPath + "/scripts/bench"
        let enqueue = try BenchProcess(
            executable: python, arguments: [folder + "/pgqueuer_noop.py", "enqueue", String(jobs)],
            environment: environment, directory: folder)
        guard try await enqueue.waitForExit() == 0 else {
            throw ValidationError("PGQueuer's enqueue failed:\n\(enqueue.output.suffix(2000))")
        }
        let start = ContinuousClock.now
        let processes = try (0..<workers).map { _ in
            try BenchProcess(
                executable: python,
                arguments: [folder + "/pgqueuer_noop.py", "work", String(batch)], environment: environment,
                directory: folder)
        }
        for process in processes {
            guard try await process.waitForExit() == 0 else {
                throw ValidationError("a PGQueuer worker failed:\n\(process.output.suffix(2000))")
            }
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        return (seconds, Double(jobs) / seconds)
    }
}

/// What JSON costs per call, for the answer to "do the bodies matter": encoding and decoding a
/// lease answer of `jobs` jobs and a heartbeat of as many leases, as the two sides do.
enum JSONCost {
    static func measure(jobs: Int) -> String {
        // Built as the coordinator's text, since LeasedJob is made only by the ledger.
        let items = (0..<jobs).map { index -> String in
            let id = 1_000_000 + index
            let token = 5_000_000 + index
            return #"{"id":\#(id),"kind":"noop","queue":"default","args":"{}","attempt":1,"maxAttempts":20,"#
                + #""token":\#(token),"leaseExpiresAt":1764800000000000}"#
        }
        let text = #"{"jobs":["# + items.joined(separator: ",") + #"],"leaseMilliseconds":30000}"#
        guard let answer = try? JSONDecoder().decode(LeaseResponse.self, from: Data(text.utf8)) else {
            return "the answer did not decode"
        }
        let leased = answer.jobs
        let heartbeat = HeartbeatRequest(
            worker: "bench-0", leases: leased.map { LeaseRef(id: $0.id, token: $0.token) })
        let rounds = 200
        let start = ContinuousClock.now
        var bytes = 0
        for _ in 0..<rounds {
            guard let data = try? JSONEncoder().encode(answer),
                (try? JSONDecoder().decode(LeaseResponse.self, from: data)) != nil,
                let beat = try? JSONEncoder().encode(heartbeat),
                (try? JSONDecoder().decode(HeartbeatRequest.self, from: beat)) != nil
            else { return "encoding failed" }
            bytes = data.count + beat.count
        }
        let perCall = (ContinuousClock.now - start).inMicroseconds / Int64(rounds)
        return "a \(jobs)-job lease answer and a \(jobs)-lease heartbeat (\(bytes) bytes) encoded and decoded "
            + "in \(perCall) µs"
    }
}

extension Duration {
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var inMicroseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}

/// A child process with its output in a temporary file: `recon` next to this binary by default.
final class BenchProcess {
    let process = Process()
    let outputPath = NSTemporaryDirectory() + "recon-bench-\(UUID().uuidString).log"

    convenience init(arguments: [String], environment: [String: String]) throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("recon")
        try self.init(executable: binary.path, arguments: arguments, environment: environment)
    }

    init(executable: String, arguments: [String], environment: [String: String], directory: String? = nil) throws {
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    func waitForLine(containing text: String) async throws -> String {
        for _ in 0..<600 {
            if let line = output.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("no '\(text)' from \(process.arguments?.first ?? "?"):\n\(output.suffix(2000))")
    }

    /// Waits for the process to exit and returns its status (looking every 5 ms).
    func waitForExit() async throws -> Int32 {
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}
