import Foundation
import ReconJobs
import ReconPostgres
import ReconTestSupport

/// A database with coordinators and workers as real `recon` processes talking HTTP.
final class DaemonHarness: @unchecked Sendable {
    // @unchecked: the arrays are only touched by the test that owns the harness, one step at a time.
    let databaseURL: String
    let token = "test-token-0123456789abcdef"
    let pool: PGPool
    var coordinators: [DaemonProcess] = []
    var coordinatorURLs: [String] = []
    var workers: [DaemonProcess] = []

    /// A fresh migrated database on the shared test cluster, or the one at `databaseURL` (a trial
    /// that restarts PostgreSQL brings a cluster of its own).
    init(label: String, databaseURL: String? = nil) async throws {
        if let databaseURL {
            self.databaseURL = databaseURL
        } else {
            self.databaseURL = try await TestPostgres.migratedDatabase(label)
        }
        pool = PGPool(connectionString: self.databaseURL, maxConnections: 2)
    }

    deinit { pool.close() }

    var environment: [String: String] { ["RECON_API_TOKEN": token, "RECON_DATABASE_URL": databaseURL] }

    @discardableResult
    func startCoordinator(leaseMilliseconds: Int = 30_000, jobs: String? = nil, listen: String = "127.0.0.1:0")
        async throws -> String
    {
        let process = try DaemonProcess(
            name: "coordinator\(coordinators.count)",
            arguments: ["coordinator", "--listen", listen, "--lease-ms", String(leaseMilliseconds)]
                + (jobs.map { ["--jobs", $0] } ?? []),
            environment: environment)
        coordinators.append(process)
        let line = try await process.waitForLine(containing: "coordinator listening on")
        guard let port = line.split(separator: ":").last.map(String.init) else {
            throw DaemonError("no port in '\(line)'")
        }
        let url = "http://127.0.0.1:\(port)"
        // A coordinator restarted at the address of one that died is the same one to workers.
        if !coordinatorURLs.contains(url) { coordinatorURLs.append(url) }
        return url
    }

    @discardableResult
    func startWorker(
        slots: Int, id: String, coordinators: [String]? = nil, graceSeconds: Int = 20, jobTimeoutSeconds: Int = 3600,
        extraArguments: [String] = [], extraEnvironment: [String: String] = [:], launcher: [String] = []
    ) async throws
        -> DaemonProcess
    {
        let process = try DaemonProcess(
            name: id,
            arguments: [
                "worker", "--coordinator", (coordinators ?? coordinatorURLs).joined(separator: ","), "--slots",
                String(slots), "--worker-id", id, "--grace-seconds", String(graceSeconds), "--job-timeout-seconds",
                String(jobTimeoutSeconds),
            ] + extraArguments, environment: environment.merging(extraEnvironment) { $1 }, launcher: launcher)
        workers.append(process)
        _ = try await process.waitForLine(containing: "started with")
        return process
    }

    func enqueue(_ jobs: [NewJob]) async throws -> [Int64] {
        try await pool.transaction { try JobLedger.enqueue(jobs, on: $0) }.map(\.id)
    }

    func count(_ sql: String, _ parameters: [any PGEncodable] = []) async throws -> Int64 {
        try await pool.query(sql, parameters).first?.decode(Int64.self, at: 0) ?? -1
    }

    func jobState(_ id: Int64) async throws -> (state: String, attempt: Int, owner: String?) {
        guard
            let row = try await pool.query("SELECT state, attempt, lease_owner FROM recon_jobs WHERE id = $1", [id])
                .first
        else { throw DaemonError("no job \(id)") }
        return (
            try row.decode(String.self, at: 0), try row.decode(Int.self, at: 1), try row.decode(String?.self, at: 2)
        )
    }

    /// SIGTERM to every process, then waits for each to exit.
    func stopAll() async {
        for process in workers + coordinators where process.process.isRunning { process.signal(SIGTERM) }
        for process in workers + coordinators { _ = try? await process.waitForExit(timeout: .seconds(30)) }
    }
}
