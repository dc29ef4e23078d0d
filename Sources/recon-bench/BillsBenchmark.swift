import ArgumentParser
import Foundation
import ReconArchive
import ReconBillJobs
import ReconBills
import ReconBlocking
import ReconChannels
import ReconConfig
import ReconCore
import ReconEmbeddedPostgres
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconStore
import _CryptoExtras

/// One large bill per channel format, served by `recon mock-channel` over loopback and fetched by
/// a real coordinator and worker: the time from "job leased" to "lines staged and committed",
/// the download's share of it, and the worker's peak RSS. In the same run, the same bill fetched
/// with `curl -o` and its normalized lines loaded with `psql -c "\copy …"`, the floor to compare.
struct BillsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bills", abstract: "fetch_bill of a large bill per format against curl -o plus psql \\copy.")

    @Option(help: "Lines in each bill.") var lines = 1_000_000
    @Option(help: "Formats, comma-separated: wechatpay, alipay, unionpay, bank.") var formats =
        "wechatpay,alipay,unionpay"
    @Flag(help: "Run the cluster with fsync off (the default keeps it on).") var fast = false
    @Option(help: "Timed rounds per format (curl, psql and Recon each time).") var rounds = 1

    static let day = "2026-11-23"
    /// psql's rows: the same channel, the day before. Its own channel-day beside Recon's, so both
    /// loads insert at the same place in the indexes (a channel name sorting after every other
    /// one gave psql the B-tree's rightmost-page fast path, which a real channel-day rarely has).
    static let baselineDay = "2026-11-22"
    static let wechatMerchant = "1900000001"
    static let alipayApp = "2021000000000042"
    static let unionpayMerchant = "802310048993424"

    func run() async throws {
        let folder = NSTemporaryDirectory() + "recon-bench-bills-\(UUID().uuidString)"
        for sub in ["data", "jobs", "downloads", "archive", "baseline"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A server sized for bulk loads, and a CHECKPOINT before each timed load, so that neither
        // psql nor Recon meets a checkpoint the other one's WAL brought on.
        let settings = ["max_wal_size": "8GB", "checkpoint_timeout": "30min", "shared_buffers": "1GB"]
        try await EmbeddedPostgres.withCluster(options: .init(durable: !fast, settings: settings)) { cluster in
            let database = try await BlockingExecutor.shared.run { try cluster.createDatabase("bench_bills") }
            let pool = PGPool(connectionString: database, maxConnections: 2)
            defer { pool.close() }
            _ = try await pool.withConnection { try MigrationRunner(migrations: try Migration.bundled()).migrate($0) }

            let mock = try BenchProcess(
                arguments: [
                    "mock-channel", "--listen", "127.0.0.1:0", "--data", "\(folder)/data", "--lines", String(lines),
                ],
                environment: [:])
            defer { mock.stop() }
            let base =
                "http://127.0.0.1:"
                + (try await mock.waitForLine(containing: "mock channel listening on").split(separator: ":").last.map(
                    String.init)
                    ?? "0")
            try writeJobFile(folder: folder, base: base)
            let contents = try JobFile.load(directory: "\(folder)/jobs")
            let token = "bench-token-0123456789abcdef"
            let environment = ["RECON_API_TOKEN": token, "RECON_DATABASE_URL": database, "RECON_LOG_LEVEL": "warning"]
            let coordinator = try BenchProcess(
                arguments: ["coordinator", "--listen", "127.0.0.1:0"], environment: environment)
            defer { coordinator.stop() }
            let url =
                "http://127.0.0.1:"
                + (try await coordinator.waitForLine(containing: "coordinator listening on").split(separator: ":").last
                    .map(
                        String.init) ?? "0")

            print(
                "lines per bill: \(lines), fsync: \(fast ? "off" : "on"), one worker process, mock and PostgreSQL on loopback"
            )
            // download: the HTTP attempts; verify: the rest of the fetch until the file is checked
            // and archived (decoding, hashes); stage: the transaction parsing into COPY, of which
            // "parse CPU" is the parse thread's own time.
            print(
                "format     file MB   curl s  psql s  floor s | recon s  download s  verify s  stage s  parse CPU s  lines/s   MB/s"
                    + "  peak RSS MiB | ratio  parse alone s")
            for format in formats.split(separator: ",").map(String.init) {
                guard let channel = contents.channel(named: "bench-\(format)") else {
                    throw ValidationError("unknown format \(format)")
                }
                // Untimed first round: the mock generates the bill on first request.
                let file = "\(folder)/baseline/\(format).bill"
                _ = try curlFetch(format, base: base, to: file)
                // The normalized lines as psql would load them (made untimed, with Recon's parser).
                let copyFile = "\(folder)/baseline/\(format).copy"
                let parseAlone = try writeCopyFile(bill: file, channel: channel, to: copyFile)
                for _ in 0..<rounds {
                    let curlSeconds = try curlFetch(format, base: base, to: file)
                    let fileBytes =
                        (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
                    // psql replaces its own copy of the day as Recon replaces its: in the first round
                    // there is nothing to delete, in a refetch round both delete 1,000,000 rows first.
                    try await pool.query("VACUUM staged_bill_lines")
                    try await pool.query("CHECKPOINT")
                    let psqlStart = ContinuousClock.now
                    try runPsql(
                        database,
                        commands: [
                            "BEGIN",
                            "DELETE FROM staged_bill_lines WHERE channel = '\(channel.name)' AND bill_date = '\(Self.baselineDay)'",
                            "\\copy staged_bill_lines (\(BillLineColumns.list)) FROM '\(copyFile)'", "COMMIT",
                        ])
                    let psqlSeconds = seconds(ContinuousClock.now - psqlStart)
                    try await pool.query("VACUUM staged_bill_lines")
                    try await pool.query("CHECKPOINT")

                    let recon = try await fetchWithRecon(
                        format: format, pool: pool, environment: environment, coordinator: url, folder: folder)
                    let floor = curlSeconds + psqlSeconds
                    print(
                        String(
                            format:
                                "%@ %8.1f %8.2f %7.2f %8.2f | %7.2f %11.2f %9.2f %8.2f %12.2f %8.0f %6.1f %13.0f | %5.2f %14.2f",
                            format.padding(toLength: 9, withPad: " ", startingAt: 0) as NSString,
                            Double(fileBytes) / 1e6, curlSeconds,
                            psqlSeconds, floor, recon.total, recon.download, recon.fetch - recon.download, recon.stage,
                            recon.parseCPU,
                            Double(lines) / recon.total,
                            Double(fileBytes) / 1e6 / recon.total, Double(recon.peakRSSKiB) / 1024, recon.total / floor,
                            parseAlone))
                }
                try? FileManager.default.removeItem(atPath: copyFile)
                try await pool.query(
                    "DELETE FROM staged_bill_lines WHERE channel = $1 AND bill_date = $2::date",
                    [channel.name, Self.baselineDay])
            }
        }
    }

    /// A fresh worker fetches the day's bill; times come from the job's lease and the database clock.
    private func fetchWithRecon(
        format: String, pool: PGPool, environment: [String: String], coordinator: String, folder: String
    )
        async throws -> (
            total: Double, download: Double, fetch: Double, stage: Double, parseCPU: Double, peakRSSKiB: Int
        )
    {
        let worker = try BenchProcess(
            arguments: [
                "worker", "--coordinator", coordinator, "--slots", "2", "--queues", "bills", "--jobs", "\(folder)/jobs",
                "--download-dir", "\(folder)/downloads", "--archive-dir", "\(folder)/archive", "--worker-id",
                "bench-\(format)",
            ], environment: environment)
        // Stopped and gone before the next format's worker starts, so it cannot lease that job.
        defer {
            worker.stop()
            worker.process.waitUntilExit()
        }
        _ = try await worker.waitForLine(containing: "started with")
        let job = NewJob(
            kind: FetchBillHandler.kind, queue: "bills",
            args: "{\"channel\":\"bench-\(format)\",\"date\":\"\(Self.day)\"}",
            retry: RetryPolicy(maxAttempts: 1, baseMilliseconds: 1000, capMilliseconds: 1000))
        guard let id = try await pool.transaction({ try JobLedger.enqueue([job], on: $0) }).first?.id else {
            throw ValidationError("nothing enqueued")
        }
        while true {
            guard
                let row = try await pool.query(
                    """
                    SELECT state, (extract(epoch FROM clock_timestamp() - attempted_at) * 1000)::int8, errors::text
                    FROM recon_jobs WHERE id = $1
                    """, [id]
                ).first
            else { throw ValidationError("job \(id) is gone") }
            let state = try row.decode(String.self, at: 0)
            if state == "completed" {
                let total = Double(try row.decode(Int64?.self, at: 1) ?? 0) / 1000
                let download =
                    try await pool.query(
                        "SELECT coalesce(sum(duration_ms), 0)::int8 FROM bill_fetch_attempts WHERE job_id = $1", [id]
                    ).first?.decode(Int64.self, at: 0) ?? 0
                let timings = try await pool.query(
                    "SELECT fetch_ms, stage_ms, parse_cpu_ms FROM bill_fetches WHERE channel = $1 AND bill_date = $2::date",
                    ["bench-\(format)", Self.day]
                ).first
                let (fetchMS, stageMS, parseMS) = (
                    try timings?.decode(Int64?.self, at: 0) ?? 0, try timings?.decode(Int64?.self, at: 1) ?? 0,
                    try timings?.decode(Int64?.self, at: 2) ?? 0
                )
                return (
                    total, Double(download) / 1000, Double(fetchMS) / 1000, Double(stageMS) / 1000,
                    Double(parseMS) / 1000,
                    peakRSS(worker.process.processIdentifier)
                )
            }
            if state == "dead" || state == "retryable" {
                throw ValidationError("the \(format) fetch failed: \(try row.decode(String.self, at: 2))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Parses the bill with Recon's parser into a COPY file for psql; returns the parse's seconds.
    private func writeCopyFile(bill: String, channel: ChannelDefinition, to path: String) throws -> Double {
        guard let day = LocalDay(Self.day), let baselineDay = LocalDay(Self.baselineDay),
            FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw ValidationError("cannot write \(path)") }
        defer { try? handle.close() }
        var encoder = BillLineEncoder<PGCopyRow>(keyRule: .sharedTransactionID)
        var buffer: [UInt8] = []
        var parseOnly = Duration.zero
        // First the parse alone, then again with the encoding, so the first figure is the parse's.
        let start = ContinuousClock.now
        _ = try ChannelAdapters.parseArchived(bill, channel: channel, day: day) { _ in }
        parseOnly = ContinuousClock.now - start
        _ = try ChannelAdapters.parseArchived(bill, channel: channel, day: day) { line in
            var renamed = line
            renamed.billDate = baselineDay
            encoder.encode(renamed)
            buffer.append(contentsOf: encoder.row.bytes)
            if buffer.count >= 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)
        return seconds(parseOnly)
    }

    /// The channel's API call(s) and the download with curl; returns the wall-clock seconds.
    private func curlFetch(_ format: String, base: String, to file: String) throws -> Double {
        let start = ContinuousClock.now
        switch format {
        case "wechatpay":
            let auth =
                "Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"\(Self.wechatMerchant)\",nonce_str=\"b\",timestamp=\"1\",serial_no=\"b\",signature=\"b\""
            let answer = try curl([
                "-H", auth, "\(base)/v3/bill/tradebill?bill_date=\(Self.day)&bill_type=ALL&tar_type=GZIP",
            ])
            let url = try jsonField(answer, "download_url")
            _ = try curl(["-H", auth, "-o", file, url])
        case "alipay":
            let biz = "{\"bill_type\":\"trade\",\"bill_date\":\"\(Self.day)\"}"
            let answer = try curl([
                "--data-urlencode", "method=alipay.data.dataservice.bill.downloadurl.query", "--data-urlencode",
                "app_id=\(Self.alipayApp)",
                "--data-urlencode", "sign_type=RSA2", "--data-urlencode", "sign=b", "--data-urlencode",
                "biz_content=\(biz)", "--data-urlencode", "timestamp=\(LocalTime.text(LocalTime.beijingNow()))",
                "--data-urlencode", "version=1.0", "--data-urlencode", "format=JSON", "--data-urlencode",
                "charset=utf-8",
                "\(base)/gateway.do",
            ])
            _ = try curl(["-o", file, try jsonField(answer, "bill_download_url")])
        case "unionpay":
            // The answer is the file (base64 of the zlib'd ZIP); Recon decodes it, so curl's part is the transfer.
            _ = try curl([
                "-o", file + ".response", "-d",
                "version=5.1.0&txnType=76&merId=\(Self.unionpayMerchant)&settleDate=1123&signature=b",
                "\(base)/",
            ])
            let elapsed = seconds(ContinuousClock.now - start)
            try decodeUnionPay(file + ".response", to: file)
            return elapsed
        default:
            _ = try curl(["-o", file, "\(base)/bills/bench/20261123.csv"])
        }
        return seconds(ContinuousClock.now - start)
    }

    /// The ZIP inside a UnionPay answer, for the psql baseline's parse (untimed).
    private func decodeUnionPay(_ response: String, to file: String) throws {
        let text = try String(contentsOfFile: response, encoding: .utf8)
        guard let range = text.range(of: "fileContent="),
            let data = Data(base64Encoded: String(text[range.upperBound...].prefix { $0 != "&" }))
        else {
            throw ValidationError("no fileContent in the UnionPay answer")
        }
        let zlib = file + ".z"
        try data.write(to: URL(fileURLWithPath: zlib))
        _ = try Inflater.inflateFile(at: zlib, to: file, format: .zlib, maxOutputBytes: 16 << 30)
        try? FileManager.default.removeItem(atPath: zlib)
    }

    /// Every answer is verified as in production: the mock's public keys and UnionPay chain.
    private func writeJobFile(folder: String, base: String) throws {
        for pem in ["wechat.pem", "alipay.pem", "unionpay.pem"] {
            try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation.write(
                toFile: "\(folder)/\(pem)", atomically: true, encoding: .utf8)
        }
        let text = """
            [[channel]]
            name = "bench-wechatpay"
            adapter = "wechatpay"
            base_url = "\(base)"
            merchant_id = "\(Self.wechatMerchant)"
            certificate_serial = "BENCH"
            private_key = { file = "\(folder)/wechat.pem" }
            platform_public_key = { file = "\(folder)/data/wechatpay/platform_public_key.pem" }
            retry = { max_attempts = 1 }
            total_timeout = "30m"

            [[channel]]
            name = "bench-alipay"
            adapter = "alipay"
            base_url = "\(base)/gateway.do"
            merchant_id = "2088000000000042"
            app_id = "\(Self.alipayApp)"
            private_key = { file = "\(folder)/alipay.pem" }
            alipay_public_key = { file = "\(folder)/data/alipay/alipay_public_key.pem" }
            retry = { max_attempts = 1 }
            total_timeout = "30m"

            [[channel]]
            name = "bench-unionpay"
            adapter = "unionpay"
            base_url = "\(base)/"
            merchant_id = "\(Self.unionpayMerchant)"
            cert_id = "1"
            private_key = { file = "\(folder)/unionpay.pem" }
            root_cert = { file = "\(folder)/data/unionpay-root.pem" }
            middle_cert = { file = "\(folder)/data/unionpay-middle.pem" }
            retry = { max_attempts = 1 }
            total_timeout = "30m"

            [[channel]]
            name = "bench-bank"
            adapter = "bank_csv"
            merchant_id = "bench"
            url_template = "\(base)/bills/{merchant}/{date:%Y%m%d}.csv"
            retry = { max_attempts = 1 }
            total_timeout = "30m"

            """
        try text.write(toFile: "\(folder)/jobs/channels.toml", atomically: true, encoding: .utf8)
    }

    private func curl(_ arguments: [String]) throws -> String {
        try runProcess("/usr/bin/curl", ["-sS", "--fail"] + arguments)
    }

    private func jsonField(_ text: String, _ key: String) throws -> String {
        guard let range = text.range(of: "\"\(key)\":\""), let end = text[range.upperBound...].firstIndex(of: "\"")
        else {
            throw ValidationError("no \(key) in \(text.prefix(300))")
        }
        return String(text[range.upperBound..<end])
    }

    private func peakRSS(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Runs a program to its end and returns its standard output; a non-zero exit is an error.
@discardableResult
func runProcess(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ValidationError(
            "\(path) \(arguments.prefix(3).joined(separator: " ")) exited \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}
