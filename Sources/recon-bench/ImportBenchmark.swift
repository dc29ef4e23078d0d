import ArgumentParser
import Foundation
import ReconBlocking
import ReconCore
import ReconEmbeddedPostgres
import ReconFixtures
import ReconPostgres
import ReconStore

/// `recon import-payments` of one synthetic day's payments file (issue 12 §7) beside psql `\copy`
/// of the same file, in the same cluster: into a plain table (no keys; the issue's baseline) and
/// into a table keyed as `payment_legs` is (the leg id and the channel key unique), since the
/// import writes a keyed table. Then the same file imported again (nothing changes).
struct ImportBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "import-payments of a day's legs against psql \\copy of the same file.")

    @Option(help: "Bill lines of the synthetic day (the legs are about as many).") var lines = 1_000_000
    @Flag(help: "Run the cluster with fsync off (the default keeps it on).") var fast = false
    @Option(
        name: .customLong("top-statements"),
        help: "Load pg_stat_statements and print the N statements that took longest after each import.")
    var topStatements = 0

    func validate() throws {
        guard lines >= 100 else { throw ValidationError("--lines must be at least 100") }
    }

    func run() async throws {
        let folder = NSTemporaryDirectory() + "recon-bench-import-\(UUID().uuidString)"
        for sub in ["data", "jobs"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The cluster settings of `recon-bench reconcile`, so that the figures compare.
        var settings = ["max_wal_size": "8GB", "checkpoint_timeout": "30min", "shared_buffers": "1GB"]
        if topStatements > 0 { settings["shared_preload_libraries"] = "pg_stat_statements" }
        try await EmbeddedPostgres.withCluster(options: .init(durable: !fast, settings: settings)) { cluster in
            let database = try await BlockingExecutor.shared.run { try cluster.createDatabase("bench_import") }
            let pool = PGPool(connectionString: database, maxConnections: 2)
            defer { pool.close() }
            _ = try await pool.withConnection { try MigrationRunner(migrations: try Migration.bundled()).migrate($0) }
            if topStatements > 0 { try await pool.query("CREATE EXTENSION pg_stat_statements") }
            try ReconcileBenchmark.writeJobFile(folder: folder, base: "http://127.0.0.1:9", shards: 4)

            let day = ReconcileBenchmark.firstDay
            let synthetic = SyntheticDay(
                seed: ReconcileBenchmark.seed, day: day, channels: [ReconcileBenchmark.channel],
                linesPerChannel: lines)
            let payments = "\(folder)/payments-\(day).csv"
            try await BlockingExecutor.shared.run {
                _ = try synthetic.writeFiles(
                    dataFolder: "\(folder)/data", paymentsPath: payments, ledgerPath: "\(folder)/ledger-\(day).csv")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: payments)[.size] as? Int) ?? 0
            print(
                "payments file of one synthetic day: \(lines) bill lines' worth, \(size / 1_048_576) MiB; fsync: "
                    + "\(fast ? "off" : "on"); \(ProcessInfo.processInfo.activeProcessorCount) cores")
            try await Self.compare(
                database: database, pool: pool,
                environment: ["RECON_DATABASE_URL": database, "RECON_LOG_LEVEL": "warning"],
                jobs: "\(folder)/jobs", file: payments, again: true, topStatements: topStatements)
        }
    }

    /// Times psql `\copy` of `file` into a plain and a keyed table (each dropped after), then
    /// `recon import-payments` of it into `payment_legs` (and, with `again`, a second time), and
    /// prints rates and ratios. A checkpoint before each, so none pays for another's dirty pages.
    static func compare(
        database: String, pool: PGPool, environment: [String: String], jobs: String, file: String, again: Bool,
        topStatements: Int
    ) async throws {
        let columns = """
            order_id text, leg_id text, business_system text, merchant_id text, leg_kind text, channel text,
            channel_txn_id text, refund_id text, direction text, amount numeric, fee numeric, status text,
            occurred_at timestamptz
            """
        let tables = [
            ("a plain table", "CREATE TABLE bench_legs (\(columns))"),
            (
                "a keyed table",
                """
                CREATE TABLE bench_legs (\(columns), PRIMARY KEY (leg_id));
                CREATE UNIQUE INDEX ON bench_legs (channel, channel_txn_id, refund_id) WHERE leg_kind = 'channel'
                """
            ),
        ]
        var psql: [(String, Double)] = []
        var rows: Int64 = 0
        for (name, create) in tables {
            try await pool.withConnection { try $0.execute(script: "DROP TABLE IF EXISTS bench_legs; \(create)") }
            try await pool.query("CHECKPOINT")
            let start = ContinuousClock.now
            try runPsql(database, command: "\\copy bench_legs FROM '\(file)' CSV HEADER")
            psql.append((name, seconds(since: start)))
            rows = try await pool.query("SELECT count(*) FROM bench_legs").first?.decode(Int64.self, at: 0) ?? 0
            try await pool.query("DROP TABLE bench_legs")
        }
        if topStatements > 0 { try await pool.query("SELECT pg_stat_statements_reset()") }
        var recon: [(String, Double)] = []
        for name in again ? ["first import", "same file again"] : ["first import"] {
            try await pool.query("CHECKPOINT")
            let start = ContinuousClock.now
            let output = try await runRecon(
                environment: environment, ["import-payments", "--file", file, "--jobs", jobs])
            recon.append((name, seconds(since: start)))
            print("recon import-payments (\(name)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
            try await printTopStatements(pool, topStatements, after: "import-payments (\(name))")
        }
        print("import: \(rows) legs")
        for (name, time) in psql {
            print("  psql \\copy into \(name): \(fixed(time)) s = \(fixed(Double(rows) / time, 0)) rows/s")
        }
        for (name, time) in recon {
            print("  recon import-payments, \(name): \(fixed(time)) s = \(fixed(Double(rows) / time, 0)) rows/s")
        }
        let first = recon[0].1
        let plain = psql[0].1 / first
        print(
            "ratio of the first import's rate to psql \\copy: into a plain table \(fixed(plain)) (floor 0.80: "
                + "\(plain >= 0.8 ? "pass" : "FAIL")); into a keyed table \(fixed(psql[1].1 / first))")
    }
}

/// Runs `recon` with `arguments` to its end; its output, or an error with it on a non-zero exit.
@discardableResult
func runRecon(environment: [String: String], _ arguments: [String]) async throws -> String {
    let process = try BenchProcess(arguments: arguments, environment: environment)
    while process.process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    guard process.process.terminationStatus == 0 else {
        throw ValidationError(
            "recon \(arguments.first ?? "") exited \(process.process.terminationStatus):\n\(process.output.suffix(3000))"
        )
    }
    return process.output
}

/// The statements that took longest since the last call (with `count` > 0), then the counters reset.
func printTopStatements(_ pool: PGPool, _ count: Int, after label: String) async throws {
    guard count > 0 else { return }
    print("  longest statements (pg_stat_statements) since the previous list, up to \(label):")
    for row in try await pool.query(
        """
        SELECT total_exec_time::int8, calls, rows, regexp_replace(left(query, 160), '\\s+', ' ', 'g')
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1
        """, [Int64(count)]
    ).rows {
        print(
            "    \(try row.decode(Int64.self, at: 0)) ms  calls \(try row.decode(Int64.self, at: 1))  rows "
                + "\(try row.decode(Int64.self, at: 2))  \(try row.decode(String.self, at: 3))")
    }
    try await pool.query("SELECT pg_stat_statements_reset()")
}

func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

func seconds(since start: ContinuousClock.Instant) -> Double {
    let duration = ContinuousClock.now - start
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
