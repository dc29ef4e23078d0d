import ArgumentParser
import Foundation
import ReconBlocking
import ReconCore
import ReconEmbeddedPostgres
import ReconJobs
import ReconPostgres
import ReconStore

/// No-op jobs leased and completed end to end: a real coordinator and real worker processes
/// (`recon` next to this binary), the lease API over HTTP, completions fenced and committed with
/// synchronous_commit on against a cluster with fsync on. Prints jobs/s and lease latency.
struct JobsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "No-op job throughput with 1, 2 and 4 worker processes.")

    @Option(help: "Jobs per run.") var jobs = 50_000
    @Option(help: "Worker process counts to run, comma-separated.") var workers = "1,2,4"
    @Option(help: "Slots per worker.") var slots = 256
    @Flag(help: "Run the cluster with fsync off (the default keeps it on: durable commits).") var fast = false

    func run() async throws {
        let counts = workers.split(separator: ",").compactMap { Int($0) }
        try await EmbeddedPostgres.withCluster(options: .init(durable: !fast, settings: ["synchronous_commit": "on"])) {
            cluster in
            print(
                "jobs per run: \(jobs), slots per worker: \(slots), fsync: \(fast ? "off" : "on"), synchronous_commit: on"
            )
            for count in counts {
                let database = try await BlockingExecutor.shared.run { try cluster.createDatabase("bench_\(count)") }
                try await measure(database: database, workerCount: count)
            }
        }
    }

    private func measure(database: String, workerCount: Int) async throws {
        let migrations = try Migration.bundled()
        let pool = PGPool(connectionString: database, maxConnections: 2)
        defer { pool.close() }
        _ = try await pool.withConnection { try MigrationRunner(migrations: migrations).migrate($0) }
        let total = jobs
        for start in stride(from: 0, to: total, by: 10_000) {
            let batch = (start..<min(total, start + 10_000)).map { _ in NewJob(kind: "noop") }
            _ = try await pool.transaction { try JobLedger.enqueue(batch, on: $0) }
        }
        let token = "bench-token-0123456789abcdef"
        let environment = ["RECON_API_TOKEN": token, "RECON_DATABASE_URL": database, "RECON_LOG_LEVEL": "info"]
        let coordinator = try BenchProcess(
            arguments: ["coordinator", "--listen", "127.0.0.1:0"], environment: environment)
        defer { coordinator.stop() }
        let line = try await coordinator.waitForLine(containing: "coordinator listening on")
        let url = "http://127.0.0.1:" + (line.split(separator: ":").last.map(String.init) ?? "0")
        let start = ContinuousClock.now
        let workers = try (0..<workerCount).map { index in
            try BenchProcess(
                arguments: ["worker", "--coordinator", url, "--slots", String(slots), "--worker-id", "bench-\(index)"],
                environment: environment)
        }
        // Counts what is left through the partial indexes, so the polling costs the server little.
        while try await pool.query(
            "SELECT count(*) FROM recon_jobs WHERE state IN ('available', 'scheduled', 'retryable', 'running')"
        ).first?.decode(Int64.self, at: 0) ?? 1 > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        for worker in workers { worker.stop() }
        var p50: [String] = [], p99: [String] = []
        for worker in workers {
            _ = try await worker.waitForLine(containing: "worker stopped")
            let summary = worker.output
            p50.append(field(summary, "lease.p50_us"))
            p99.append(field(summary, "lease.p99_us"))
        }
        // Every job completed exactly once.
        let completed =
            try await pool.query("SELECT count(*) FROM recon_jobs WHERE state = 'completed' AND attempt = 1")
            .first?.decode(Int64.self, at: 0) ?? 0
        print(
            "\(workerCount) worker(s): \(total) jobs in \(String(format: "%.2f", seconds)) s = "
                + "\(Int(Double(total) / seconds)) jobs/s; lease call p50 \(p50.joined(separator: "/")) µs, "
                + "p99 \(p99.joined(separator: "/")) µs (per worker); completed once: \(completed)")
    }

    private func field(_ text: String, _ key: String) -> String {
        guard let range = text.range(of: key + "=") else { return "?" }
        return String(text[range.upperBound...].prefix { $0.isNumber })
    }
}

/// A `recon` child process with its output in a temporary file.
final class BenchProcess {
    let process = Process()
    let outputPath = NSTemporaryDirectory() + "recon-bench-\(UUID().uuidString).log"

    init(arguments: [String], environment: [String: String]) throws {
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "recon")
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
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

    func stop() {
        if process.isRunning { process.terminate() }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}
