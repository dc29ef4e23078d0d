import ArgumentParser
import Foundation
import ReconBillJobs
import ReconBlocking
import ReconCore
import ReconEmbeddedPostgres
import ReconFixtures
import ReconJobs
import ReconPostgres
import ReconStore
import _CryptoExtras

/// One channel-day reconciled end to end (issue 12 §7): a synthetic WeChat Pay day of `--lines`
/// bill lines and as many legs, its bill served by `recon mock-channel`, its payments imported by
/// `recon import-payments`, and `recon run-day` followed through a real coordinator and 1 or 2
/// real worker processes (fetch+stage, the reconcile shards, finalize, settle). Beside it, in the
/// same run and cluster, psql alone: `\copy` of the same normalized lines into a table, one
/// `FULL OUTER JOIN` against the day's legs inserted with `INSERT … ON CONFLICT` into a table
/// shaped like `recon_results`; and psql `\copy` of the payments file beside `import-payments`.
/// Last, the day's reconcile again with `--history-days` earlier days of staged lines and results
/// loaded, against the same reconcile on the empty history.
struct ReconcileBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "A channel-day through run-day with 1 and 2 workers against psql; import-payments against \\copy.")

    @Option(help: "Bill lines of the channel-day (the legs are about as many).") var lines = 1_000_000
    @Option(help: "Reconcile shards of the channel.") var shards = 4
    @Option(help: "Worker process counts, comma-separated; each count runs a day of its own.") var workers = "1,2"
    @Option(help: "Jobs each worker runs at once.") var slots = 2
    @Option(
        name: .customLong("history-days"),
        help: "Earlier days of staged lines and results to load before timing the reconcile again (0 skips).")
    var historyDays = 30
    @Flag(help: "Run the cluster with fsync off (the default keeps it on).") var fast = false
    @Option(
        name: .customLong("top-statements"),
        help: "Load pg_stat_statements and print the N statements that took longest after each import and day.")
    var topStatements = 0

    static let channel = SyntheticChannel(name: "wechat-main", adapter: .wechatpay, merchant: "1900000000")
    static let firstDay = LocalDay("2026-11-23") ?? LocalDay(dayNumber: 20_780)
    static let seed: UInt64 = 20_261_123
    static let token = "bench-token-0123456789abcdef"

    /// The shared state of one run: folders, the pool, the daemons' addresses.
    struct Bench {
        var folder: String
        var database: String
        var pool: PGPool
        var coordinator: String
        var environment: [String: String]
        var jobs: String { folder + "/jobs" }
    }

    func validate() throws {
        guard lines >= 100 else { throw ValidationError("--lines must be at least 100") }
        guard (1...256).contains(shards) else { throw ValidationError("--shards must be 1 to 256") }
        guard !workerCounts.isEmpty, workerCounts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--workers needs counts of at least 1")
        }
        guard historyDays >= 0 else { throw ValidationError("--history-days must be 0 or more") }
    }

    private var workerCounts: [Int] { workers.split(separator: ",").compactMap { Int($0) } }

    func run() async throws {
        let folder = NSTemporaryDirectory() + "recon-bench-reconcile-\(UUID().uuidString)"
        for sub in ["data", "jobs", "downloads", "archive", "spool", "settlements", "files"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Commit timestamps: a job's finalized_at is now() of its completion transaction, i.e. when
        // that transaction began, before the staging or upsert it carries; a stage ends at the commit.
        var settings = [
            "max_wal_size": "8GB", "checkpoint_timeout": "30min", "shared_buffers": "1GB",
            "track_commit_timestamp": "on",
        ]
        if topStatements > 0 { settings["shared_preload_libraries"] = "pg_stat_statements" }
        try await EmbeddedPostgres.withCluster(options: .init(durable: !fast, settings: settings)) { cluster in
            let database = try await BlockingExecutor.shared.run { try cluster.createDatabase("bench_reconcile") }
            let pool = PGPool(connectionString: database, maxConnections: 3)
            defer { pool.close() }
            _ = try await pool.withConnection { try MigrationRunner(migrations: try Migration.bundled()).migrate($0) }
            if topStatements > 0 { try await pool.query("CREATE EXTENSION pg_stat_statements") }

            let mock = try BenchProcess(
                arguments: ["mock-channel", "--listen", "127.0.0.1:0", "--data", "\(folder)/data", "--lines", "10"],
                environment: [:])
            defer { mock.stop() }
            let base = try await Self.address(of: mock, saying: "mock channel listening on")
            try Self.writeJobFile(folder: folder, base: base, shards: shards)
            let environment = [
                "RECON_API_TOKEN": Self.token, "RECON_DATABASE_URL": database, "RECON_LOG_LEVEL": "warning",
            ]
            let coordinator = try BenchProcess(
                arguments: ["coordinator", "--listen", "127.0.0.1:0"], environment: environment)
            defer { coordinator.stop() }
            let bench = Bench(
                folder: folder, database: database, pool: pool,
                coordinator: try await Self.address(of: coordinator, saying: "coordinator listening on"),
                environment: environment)

            print(
                "one channel-day (wechatpay, synthetic, 0.5% discrepancies): \(lines) bill lines, \(shards) shards, "
                    + "\(slots) slots per worker, fsync: \(fast ? "off" : "on"); mock, coordinator, workers and "
                    + "PostgreSQL on this machine (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
            var last: (day: LocalDay, workers: Int)?
            for (index, count) in workerCounts.enumerated() {
                let day = Self.firstDay.adding(days: index)
                try await runRound(bench, day: day, workers: count)
                last = (day, count)
            }
            if historyDays > 0, let last {
                try await history(bench, day: last.day, workers: last.workers)
            }
        }
    }

    // MARK: - A day with N workers

    private func runRound(_ bench: Bench, day: LocalDay, workers count: Int) async throws {
        print("\n== \(day): \(count) worker process(es)")
        let synthetic = SyntheticDay(seed: Self.seed, day: day, channels: [Self.channel], linesPerChannel: lines)
        let payments = "\(bench.folder)/files/payments-\(day).csv"
        let ledger = "\(bench.folder)/files/ledger-\(day).csv"
        let generateStart = ContinuousClock.now
        let folder = bench.folder
        try await BlockingExecutor.shared.run {
            _ = try synthetic.writeFiles(dataFolder: "\(folder)/data", paymentsPath: payments, ledgerPath: ledger)
        }
        print("generated the day's files in \(fixed(seconds(since: generateStart), 1)) s (untimed)")

        try await ImportBenchmark.compare(
            database: bench.database, pool: bench.pool, environment: bench.environment, jobs: bench.jobs,
            file: payments, again: false, topStatements: topStatements)
        try await runRecon(environment: bench.environment, ["import-ledger", "--file", ledger])
        try await prepare(bench.pool)

        let daemons = try await startWorkers(bench, count: count, label: "\(day)")
        var stopped = false
        defer { if !stopped { for worker in daemons { worker.stop() } } }
        let output = try await runRecon(
            environment: bench.environment, ["run-day", "--date", "\(day)", "--jobs", bench.jobs])
        let rss = daemons.map { peakRSSKiB($0.process.processIdentifier) }
        await stop(daemons)
        stopped = true
        guard let runLine = output.split(separator: "\n").first(where: { $0.contains("run_day") }),
            let runID = runLine.split(separator: " ").last.flatMap({ Int64($0) })
        else { throw ValidationError("no run job in run-day's output:\n\(output)") }
        let stages = try await DayStages.read(runJob: runID, pool: bench.pool)
        let counts = try await dayCounts(bench.pool, day: day)

        print(
            "staged lines \(counts.lines), channel legs \(counts.legs), results \(counts.results) "
                + "(discrepancies \(counts.discrepancies)); job attempts \(stages.attempts) for \(stages.jobs) jobs")
        print(
            "stage: first lease (attempted_at) → last completion committed (database clock); from → to in s after "
                + "run_day was enqueued")
        for (name, kind) in [
            ("fetch+stage", "fetch_bill"), ("reconcile shards", "reconcile"), ("finalize", "finalize"),
            ("reconcile_virtual", "reconcile_virtual"), ("settle", "settle"),
        ] {
            let span = stages.spans[kind] ?? (0, 0)
            print(
                "  \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(fixed(span.end - span.start)) s  "
                    + "(\(fixed(span.start)) → \(fixed(span.end)))")
        }
        print("  total (run_day enqueued → settled) \(fixed(stages.total)) s")
        try await printTopStatements(bench.pool, topStatements, after: "run-day \(day)")
        print(
            "lines/s: end to end \(fixed(Double(counts.lines) / stages.total, 0)); matching (staged lines → results "
                + "committed) \(fixed(Double(counts.lines) / stages.reconcile, 0))")
        print(
            "peak RSS per worker (VmHWM): " + rss.map { "\(fixed(Double($0) / 1024, 0)) MiB" }.joined(separator: ", "))

        let baseline = try await psqlBaseline(bench, day: day)
        print(
            "psql baseline: \\copy \(fixed(baseline.copy)) s + join+upsert \(fixed(baseline.join)) s = "
                + "\(fixed(baseline.copy + baseline.join)) s (\(baseline.rows) rows; statuses differing from Recon's: "
                + "\(baseline.differing))")
        let matchingRatio = baseline.join / stages.reconcile
        let endRatio = (baseline.copy + baseline.join) / stages.total
        let endFloor = count == 2 ? (endRatio >= 0.75 ? "pass" : "FAIL") : "applies to 2 workers"
        print(
            "speed against the baseline: matching \(fixed(matchingRatio)) of join+upsert (floor 1.00: "
                + "\(matchingRatio >= 1 ? "pass" : "FAIL")); end to end \(fixed(endRatio)) of its whole time (floor "
                + "0.75: \(endFloor)); peak RSS ≤ 256 MiB: \(rss.allSatisfy { $0 <= 256 * 1024 } ? "pass" : "FAIL")")
    }

    // MARK: - The psql baseline

    /// The same channel-day in PostgreSQL alone: the day's staged lines written out (untimed) as
    /// the normalized bill, `\copy` into a table shaped like `staged_bill_lines`, then one FULL
    /// OUTER JOIN against the day's channel legs upserted into a table shaped like `recon_results`.
    private func psqlBaseline(_ bench: Bench, day: LocalDay) async throws -> (
        copy: Double, join: Double, rows: Int64, differing: Int64
    ) {
        let file = "\(bench.folder)/files/bill-\(day).copy"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let channel = Self.channel.name
        try runPsql(
            bench.database,
            command:
                "\\copy (SELECT \(BillLineColumns.list) FROM staged_bill_lines WHERE channel = '\(channel)' AND bill_date = '\(day)') TO '\(file)'"
        )
        try await script(
            bench.pool,
            """
            DROP TABLE IF EXISTS baseline_bill_lines;
            DROP TABLE IF EXISTS baseline_results;
            CREATE TABLE baseline_bill_lines (LIKE staged_bill_lines INCLUDING ALL);
            CREATE TABLE baseline_results (LIKE recon_results INCLUDING ALL)
            """)
        try await bench.pool.query("CHECKPOINT")
        let copyStart = ContinuousClock.now
        try runPsql(bench.database, command: "\\copy baseline_bill_lines (\(BillLineColumns.list)) FROM '\(file)'")
        let copySeconds = seconds(since: copyStart)
        let joinStart = ContinuousClock.now
        try runPsql(bench.database, command: Self.baselineJoin(channel: channel, day: day))
        let joinSeconds = seconds(since: joinStart)
        let rows = try await bench.pool.query("SELECT count(*) FROM baseline_results").first?.decode(Int64.self, at: 0)
        let differing = try await bench.pool.query(
            """
            SELECT count(*) FROM baseline_results b
            FULL JOIN (SELECT * FROM recon_results WHERE channel = $1 AND bill_date = $2 AND lane = 0) r
                USING (channel_txn_id, match_refund_key)
            WHERE b.status IS DISTINCT FROM r.status
            """, [channel, day.pgDate]
        ).first?.decode(Int64.self, at: 0)
        try await script(bench.pool, "DROP TABLE baseline_bill_lines; DROP TABLE baseline_results")
        return (copySeconds, joinSeconds, rows ?? 0, differing ?? 0)
    }

    static let resultValues = [
        "key_hash", "status", "line_no", "channel_amount_fen", "channel_fee_fen", "channel_moved", "channel_time",
        "leg_id", "internal_amount_fen", "internal_fee_fen", "leg_status", "business_system", "merchant_id",
        "occurred_at",
    ]

    /// One statement: the join decides a status per key with CASE and upserts every row.
    static func baselineJoin(channel: String, day: LocalDay) -> String {
        let values = resultValues
        // MatchRules' pair and lone-leg rules; the carry-over windows of midnight are left out.
        let moved =
            "coalesce(upper(b.channel_status) NOT IN ('FAILED', 'FAIL', 'CLOSED', 'CLOSE', 'CANCELLED', 'CANCELED'), true)"
        return """
            INSERT INTO baseline_results AS r (channel, bill_date, channel_txn_id, match_refund_key, lane, \
            \(values.joined(separator: ", "))) \
            SELECT '\(channel)', DATE '\(day)', coalesce(b.channel_txn_id, l.channel_txn_id), \
            coalesce(b.match_refund_key, l.match_refund_key), 0, coalesce(b.key_hash, l.key_hash), \
            CASE WHEN l.leg_id IS NULL THEN 'channel_only' \
            WHEN b.line_no IS NULL THEN CASE WHEN l.status IN ('failed', 'closed') THEN 'matched' \
            ELSE 'internal_only' END \
            WHEN b.amount_fen <> l.amount_fen THEN 'amount_mismatch' \
            WHEN \(moved) <> (l.status = 'success') THEN 'status_mismatch' \
            WHEN b.fee_fen <> l.fee_fen THEN 'fee_mismatch' ELSE 'matched' END, \
            b.line_no, b.amount_fen, b.fee_fen, CASE WHEN b.line_no IS NOT NULL THEN \(moved) END, b.txn_time, \
            l.leg_id, l.amount_fen, l.fee_fen, l.status, l.business_system, l.merchant_id, l.occurred_at \
            FROM baseline_bill_lines b FULL OUTER JOIN \
            (SELECT * FROM payment_legs WHERE leg_kind = 'channel' AND channel = '\(channel)' \
            AND business_date = DATE '\(day)') l \
            ON b.channel_txn_id = l.channel_txn_id AND b.match_refund_key = l.match_refund_key \
            ON CONFLICT (channel, bill_date, channel_txn_id, match_refund_key, lane) DO UPDATE SET \
            \(values.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")) \
            WHERE (\(values.map { "r.\($0)" }.joined(separator: ", "))) \
            IS DISTINCT FROM (\(values.map { "EXCLUDED.\($0)" }.joined(separator: ", ")))
            """
    }

    // MARK: - History

    /// The reconcile of `day` (its shards and finalize, enqueued directly: no fetch) on the history
    /// there is, then again with `historyDays` earlier days of staged lines and results loaded.
    private func history(_ bench: Bench, day: LocalDay, workers count: Int) async throws {
        print("\n== history: \(day)'s reconcile again (shards and finalize only), \(count) worker process(es)")
        let empty = try await reconcileAgain(bench, day: day, workers: count, tag: "empty")
        print("empty history: reconcile shards \(fixed(empty.reconcile)) s, finalize \(fixed(empty.finalize)) s")
        let loadStart = ContinuousClock.now
        let first = Self.firstDay.adding(days: -historyDays)
        let days = (0..<historyDays).map { first.adding(days: $0) }
        let channel = Self.channel.name
        let perDay = lines
        // Lines and results load side by side, on two connections.
        async let linesLoaded: Void = Self.load(
            Self.historyLines, channel: channel, days: days, perDay: perDay, bench.pool)
        async let resultsLoaded: Void = Self.load(
            Self.historyResults, channel: channel, days: days, perDay: perDay, bench.pool)
        _ = try await (linesLoaded, resultsLoaded)
        let sizes = try await bench.pool.query(
            """
            SELECT (SELECT count(*) FROM staged_bill_lines), (SELECT count(*) FROM recon_results),
                   (pg_total_relation_size('staged_bill_lines') + pg_total_relation_size('recon_results')) / 1048576
            """
        ).first
        let loadSeconds = seconds(since: loadStart)
        print(
            "loaded \(historyDays) earlier days (\(first) to \(first.adding(days: historyDays - 1))) in "
                + "\(fixed(loadSeconds, 1)) s: staged lines \(try sizes?.decode(Int64.self, at: 0) ?? 0), results "
                + "\(try sizes?.decode(Int64.self, at: 1) ?? 0), both tables \(try sizes?.decode(Int64.self, at: 2) ?? 0) MiB "
                + "with indexes")
        let full = try await reconcileAgain(bench, day: day, workers: count, tag: "history")
        print(
            "with \(historyDays) days of history: reconcile shards \(fixed(full.reconcile)) s, finalize "
                + "\(fixed(full.finalize)) s")
        let ratio = full.reconcile / empty.reconcile
        print("history ratio (reconcile shards): \(fixed(ratio)) (floor ≤ 1.15: \(ratio <= 1.15 ? "pass" : "FAIL"))")
    }

    /// `day`'s results deleted (so the shards insert them again, as on a day's first run), the
    /// tables vacuumed and analyzed, then the shards and finalize run by fresh workers.
    private func reconcileAgain(_ bench: Bench, day: LocalDay, workers count: Int, tag: String) async throws
        -> DayStages
    {
        let channel = Self.channel.name
        try await bench.pool.query(
            "DELETE FROM recon_results WHERE channel = $1 AND bill_date = $2", [channel, day.pgDate])
        try await prepare(bench.pool)
        let daemons = try await startWorkers(bench, count: count, label: tag)
        var stopped = false
        defer { if !stopped { for worker in daemons { worker.stop() } } }
        let retry = RetryPolicy(maxAttempts: 10, baseMilliseconds: 2_000, capMilliseconds: 60_000)
        let shardCount = shards
        let (jobs, finalize) = try await bench.pool.transaction { connection in
            var ids: [Int64] = []
            for shard in 0..<shardCount {
                let job = NewJob(
                    kind: "reconcile", queue: "default",
                    args:
                        "{\"channel\": \"\(channel)\", \"date\": \"\(day)\", \"shard\": \"\(shard)\", \"shards\": \"\(shardCount)\"}",
                    retry: retry, uniqueKey: "reconcile:\(channel):\(day):\(shard)/\(shardCount):bench-\(tag)")
                guard let id = try JobLedger.enqueue([job], on: connection).first?.id else {
                    throw ValidationError("the shard was not enqueued")
                }
                ids.append(id)
            }
            let finalize = NewJob(
                kind: "finalize", queue: "default",
                args: "{\"channel\": \"\(channel)\", \"date\": \"\(day)\", \"shards\": \"\(shardCount)\"}",
                retry: retry, uniqueKey: "finalize:\(channel):\(day):bench-\(tag)", dependsOn: ids)
            guard let id = try JobLedger.enqueue([finalize], on: connection).first?.id else {
                throw ValidationError("finalize was not enqueued")
            }
            return (ids + [id], id)
        }
        while true {
            let state = try await bench.pool.query("SELECT state FROM recon_jobs WHERE id = $1", [finalize]).first?
                .decode(String.self, at: 0)
            if state == "completed" { break }
            let dead = try await bench.pool.query(
                "SELECT count(*) FROM recon_jobs WHERE id = ANY($1::int8[]) AND state IN ('dead', 'cancelled')",
                [PGArray(jobs)]
            ).first?.decode(Int64.self, at: 0)
            if dead ?? 0 > 0 { throw ValidationError("a job of the \(tag) reconcile died") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let rss = daemons.map { peakRSSKiB($0.process.processIdentifier) }
        await stop(daemons)
        stopped = true
        print("  peak RSS per worker: " + rss.map { "\(fixed(Double($0) / 1024, 0)) MiB" }.joined(separator: ", "))
        return try await DayStages.read(jobs: jobs, origin: jobs[0], pool: bench.pool)
    }

    /// A day of staged lines: one payment per line, key hashes as staging computes them.
    static let historyLines = """
        INSERT INTO staged_bill_lines (channel, bill_date, line_no, channel_txn_id, original_txn_id, match_refund_key,
            key_hash, merchant_order_id, refund_id, kind, amount_fen, fee_fen, channel_status, txn_time)
        SELECT $1, $2::date, g, t.txn, t.txn, '', \(keyHashSQL("t.txn")), 'H' || t.txn, NULL, 'payment',
               g % 100000 + 1, g % 600, 'SUCCESS', $2::date + make_interval(secs => (g % 86400)::float8)
        FROM generate_series(1, $3::int8) g
        CROSS JOIN LATERAL (SELECT '42' || to_char($2::date, 'YYYYMMDD') || lpad(g::text, 18, '0') AS txn) t
        """

    /// The same day's results: matched, but one in 200 an amount mismatch.
    static let historyResults = """
        INSERT INTO recon_results (channel, bill_date, channel_txn_id, match_refund_key, lane, key_hash, status,
            line_no, channel_amount_fen, channel_fee_fen, channel_moved, channel_time, leg_id, internal_amount_fen,
            internal_fee_fen, leg_status, business_system, merchant_id, occurred_at)
        SELECT $1, $2::date, t.txn, '', 0, \(keyHashSQL("t.txn")),
               CASE WHEN g % 200 = 0 THEN 'amount_mismatch' ELSE 'matched' END,
               g, g % 100000 + 1, g % 600, true, $2::date + make_interval(secs => (g % 86400)::float8),
               'L' || t.txn, g % 100000 + 1 + CASE WHEN g % 200 = 0 THEN 1 ELSE 0 END, g % 600, 'success',
               'mall', 'M001', $2::date + make_interval(secs => (g % 86400)::float8)
        FROM generate_series(1, $3::int8) g
        CROSS JOIN LATERAL (SELECT '42' || to_char($2::date, 'YYYYMMDD') || lpad(g::text, 18, '0') AS txn) t
        """

    private static func load(_ sql: String, channel: String, days: [LocalDay], perDay: Int, _ pool: PGPool)
        async throws
    {
        for day in days { try await pool.query(sql, [channel, day.pgDate, Int64(perDay)]) }
    }

    static func keyHashSQL(_ column: String) -> String {
        "(('x' || substr(md5(\(column)), 1, 16))::bit(64)::bigint & 9223372036854775807)"
    }

    // MARK: - Processes and helpers

    private func startWorkers(_ bench: Bench, count: Int, label: String) async throws -> [BenchProcess] {
        var started: [BenchProcess] = []
        for index in 0..<count {
            let worker = try BenchProcess(
                arguments: [
                    "worker", "--coordinator", bench.coordinator, "--slots", String(slots), "--queues", "default,bills",
                    "--jobs", bench.jobs, "--download-dir", "\(bench.folder)/downloads", "--archive-dir",
                    "\(bench.folder)/archive", "--spool-dir", "\(bench.folder)/spool", "--settlement-dir",
                    "\(bench.folder)/settlements", "--worker-id", "bench-\(label)-\(index)",
                ], environment: bench.environment)
            started.append(worker)
            _ = try await worker.waitForLine(containing: "started with")
        }
        return started
    }

    /// Stops the workers and waits until they are gone.
    private func stop(_ workers: [BenchProcess]) async {
        for worker in workers { worker.stop() }
        for worker in workers {
            while worker.process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// Before a timed stage: the planner's statistics current, dead rows gone, dirty pages written.
    private func prepare(_ pool: PGPool) async throws {
        try await pool.query("VACUUM ANALYZE staged_bill_lines, payment_legs, recon_results")
        try await pool.query("CHECKPOINT")
    }

    private func dayCounts(_ pool: PGPool, day: LocalDay) async throws -> (
        lines: Int64, legs: Int64, results: Int64, discrepancies: Int64
    ) {
        let channel = Self.channel.name
        guard
            let row = try await pool.query(
                """
                SELECT (SELECT count(*) FROM staged_bill_lines WHERE channel = $1 AND bill_date = $2),
                       (SELECT count(*) FROM payment_legs WHERE leg_kind = 'channel' AND channel = $1
                            AND business_date = $2),
                       (SELECT count(*) FROM recon_results WHERE channel = $1 AND bill_date = $2),
                       (SELECT count(*) FROM recon_results WHERE channel = $1 AND bill_date = $2
                            AND status <> 'matched')
                """, [channel, day.pgDate]
            ).first
        else { return (0, 0, 0, 0) }
        return (
            try row.decode(Int64.self, at: 0), try row.decode(Int64.self, at: 1), try row.decode(Int64.self, at: 2),
            try row.decode(Int64.self, at: 3)
        )
    }

    /// The port from the daemon's own "… listening on host:port" line (not a library's log line
    /// that says so in its own format).
    private static func address(of process: BenchProcess, saying words: String) async throws -> String {
        let line = try await process.waitForLine(containing: words)
        guard let port = line.split(separator: ":").last else { throw ValidationError("no port in '\(line)'") }
        return "http://127.0.0.1:\(port)"
    }

    /// The channel as `DayRunTests` configures it: the mock verifies our signatures with the
    /// public half of the key, we verify its answers with its platform key.
    static func writeJobFile(folder: String, base: String, shards: Int) throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let keyPath = "\(folder)/wechat.pem"
        try key.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
        let publicFolder = "\(folder)/data/wechatpay/\(Self.channel.merchant)"
        try FileManager.default.createDirectory(atPath: publicFolder, withIntermediateDirectories: true)
        try key.publicKey.pemRepresentation.write(
            toFile: "\(publicFolder)/merchant_public_key.pem", atomically: true, encoding: .utf8)
        let text = """
            [[channel]]
            name = "\(Self.channel.name)"
            adapter = "wechatpay"
            ready_after = "00:00"
            deadline = "23:59"
            poll_interval = "1s"
            shards = \(shards)
            retry = { max_attempts = 3, base = "1s", cap = "5s" }
            total_timeout = "30m"
            base_url = "\(base)"
            merchant_id = "\(Self.channel.merchant)"
            certificate_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
            private_key = { file = "\(keyPath)" }
            platform_public_key = { file = "\(folder)/data/wechatpay/platform_public_key.pem" }

            """
        try text.write(toFile: "\(folder)/jobs/channels.toml", atomically: true, encoding: .utf8)
    }

    private func peakRSSKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    private func script(_ pool: PGPool, _ sql: String) async throws {
        try await pool.withConnection { try $0.execute(script: sql) }
    }

}

/// The stages of a run of a day, from its jobs' own timestamps (the database clock): each kind
/// from its first lease (`attempted_at`) to the commit of its last completion (the commit
/// timestamp of the job row's last write; `finalized_at` is when that transaction began).
struct DayStages: Sendable {
    var fetch = 0.0
    var reconcile = 0.0
    var finalize = 0.0
    var virtual = 0.0
    var settle = 0.0
    var total = 0.0
    var jobs: Int64 = 0
    var attempts: Int64 = 0
    /// Each kind's first lease and last completion, seconds after the origin job was enqueued.
    var spans: [String: (start: Double, end: Double)] = [:]

    /// The jobs a `run_day` job enqueued; the total runs from the run_day job's enqueue.
    static func read(runJob: Int64, pool: PGPool) async throws -> DayStages {
        let ids = try await pool.query("SELECT unnest(jobs) FROM recon_day_runs WHERE run_id = $1", [runJob]).rows
            .map { try $0.decode(Int64.self, at: 0) }
        guard !ids.isEmpty else { throw ValidationError("no recon_day_runs row for run \(runJob)") }
        return try await read(jobs: ids, origin: runJob, pool: pool)
    }

    static func read(jobs: [Int64], origin: Int64, pool: PGPool) async throws -> DayStages {
        var stages = DayStages()
        let rows = try await pool.query(
            """
            SELECT j.kind, count(*), sum(j.attempt)::int8,
                   (extract(epoch FROM max(pg_xact_commit_timestamp(j.xmin)) - min(j.attempted_at)) * 1000)::int8,
                   (extract(epoch FROM max(pg_xact_commit_timestamp(j.xmin))
                       - (SELECT created_at FROM recon_jobs WHERE id = $2)) * 1000)::int8,
                   (extract(epoch FROM min(j.attempted_at) - (SELECT created_at FROM recon_jobs WHERE id = $2)) * 1000)::int8
            FROM recon_jobs j WHERE j.id = ANY($1::int8[]) GROUP BY j.kind
            """, [PGArray(jobs), origin]
        ).rows
        for row in rows {
            let kind = try row.decode(String.self, at: 0)
            let span = Double(try row.decode(Int64?.self, at: 3) ?? 0) / 1000
            stages.jobs += try row.decode(Int64.self, at: 1)
            stages.attempts += try row.decode(Int64?.self, at: 2) ?? 0
            let end = Double(try row.decode(Int64?.self, at: 4) ?? 0) / 1000
            stages.total = max(stages.total, end)
            stages.spans[kind] = (Double(try row.decode(Int64?.self, at: 5) ?? 0) / 1000, end)
            switch kind {
            case "fetch_bill": stages.fetch = span
            case "reconcile": stages.reconcile = span
            case "finalize": stages.finalize = span
            case "reconcile_virtual": stages.virtual = span
            case "settle": stages.settle = span
            default: break
            }
        }
        return stages
    }
}
