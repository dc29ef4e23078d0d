import Foundation
import Logging
import ReconBillJobs
import ReconChannels
import ReconConfig
import ReconCore
import ReconJobs
import ReconMockChannel
import ReconPostgres
import _CryptoExtras

/// The bill part of `recon demo`: a mock channel server in this process serving all four formats,
/// one channel of each pointing at it (keys made for the run, referenced by file), and a
/// fetch_bill job per channel for yesterday, one of them through a channel hiccup.
struct DemoBills {
    let folder: String
    var jobs: String { folder + "/jobs" }
    var downloads: String { folder + "/downloads" }
    var archive: String { folder + "/archive" }
    static let channels = ["alipay-demo", "wechat-demo", "unionpay-demo", "bank-demo"]

    /// Yesterday in Beijing, the day whose bills are fetched this morning.
    static var yesterday: LocalDay { .beijingToday(offset: -1) }

    init() throws {
        folder = NSTemporaryDirectory() + "recon-demo-bills-\(UUID().uuidString)"
        for sub in ["jobs", "data", "downloads", "archive"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// Starts the mock (its WeChat bill for yesterday fails once with a 500) and writes the job file.
    func startMock(lines: Int) async throws -> Task<Void, any Error> {
        let server = MockChannelServer(
            configuration: .init(
                dataFolder: folder + "/data", linesPerDay: lines,
                faults: [Fault(channel: "wechatpay", date: Self.yesterday.description, kind: .fail503, times: 1)]))
        var logger = Logger(label: "recon.demo.mock-channel")
        logger.logLevel = .warning
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.run(logger: logger) { port in sink.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw DemoError("the mock channel server did not start") }
        try writeJobFile(base: "http://127.0.0.1:\(port)")
        print(
            "mock channel server on http://127.0.0.1:\(port) (Alipay, WeChat Pay, UnionPay and bank file APIs, in this process)"
        )
        return task
    }

    private func writeJobFile(base: String) throws {
        for name in ["alipay", "wechat", "unionpay"] {
            // Readable by this user only, as a real key file must be.
            guard
                FileManager.default.createFile(
                    atPath: "\(folder)/\(name).pem",
                    contents: Data(try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation.utf8),
                    attributes: [.posixPermissions: 0o600])
            else { throw DemoError("cannot write \(folder)/\(name).pem") }
        }
        let text = """
            # Written by `recon demo`: one channel of each format, all pointing at the mock server.
            [[channel]]
            name = "alipay-demo"
            adapter = "alipay"
            base_url = "\(base)/gateway.do"
            merchant_id = "2088000000000042"
            app_id = "2021000000000042"
            private_key = { file = "\(folder)/alipay.pem" }
            alipay_public_key = { file = "\(folder)/data/alipay/alipay_public_key.pem" }

            [[channel]]
            name = "wechat-demo"
            adapter = "wechatpay"
            base_url = "\(base)"
            merchant_id = "1900000001"
            certificate_serial = "DEMO0001"
            private_key = { file = "\(folder)/wechat.pem" }
            platform_public_key = { file = "\(folder)/data/wechatpay/platform_public_key.pem" }
            retry = { max_attempts = 5, base = "1s", cap = "5s" }

            [[channel]]
            name = "unionpay-demo"
            adapter = "unionpay"
            base_url = "\(base)/"
            merchant_id = "802310048993424"
            cert_id = "69629715588"
            private_key = { file = "\(folder)/unionpay.pem" }
            root_cert = { file = "\(folder)/data/unionpay-root.pem" }
            middle_cert = { file = "\(folder)/data/unionpay-middle.pem" }

            [[channel]]
            name = "bank-demo"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(base)/bills/{merchant}/{date:%Y%m%d}.csv.gz"
            compression = "gzip"
            sha256_suffix = ".sha256"

            """
        try text.write(toFile: jobs + "/channels.toml", atomically: true, encoding: .utf8)
    }

    /// Enqueues yesterday's fetch for every channel, waits for them, and prints what was staged.
    func fetchAll(pool: PGPool) async throws {
        let day = Self.yesterday
        let contents = try JobFile.load(directory: jobs)
        let jobs = contents.channels.map { channel in
            NewJob(
                kind: FetchBillHandler.kind, queue: channel.queue,
                args: "{\"channel\":\"\(channel.name)\",\"date\":\"\(day)\"}",
                retry: channel.retry)
        }
        let ids = try await pool.transaction { try JobLedger.enqueue(jobs, on: $0) }.map(\.id)
        print("enqueued fetch_bill for \(day) on \(contents.channels.map(\.name).joined(separator: ", "))")
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(120) {
            let finished =
                try await pool.query(
                    "SELECT count(*) FROM recon_jobs WHERE id = ANY($1) AND state IN ('completed', 'dead', 'cancelled')",
                    [PGArray(ids)]
                ).first?.decode(Int64.self, at: 0) ?? 0
            if finished == ids.count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        for channel in contents.channels {
            let report = try await pool.withConnection { try BillReport.load(channel: channel.name, day: day, on: $0) }
            if let fetch = report.fetch {
                print(
                    "  \(channel.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(fetch.lines) lines staged "
                        + "(\(fetch.payments) payments, \(fetch.refunds) refunds), amount \(Money.yuanText(fen: fetch.amountFen)) yuan, "
                        + "fee \(Money.yuanText(fen: fetch.feeFen)) yuan, \(report.attempts.count) HTTP requests, "
                        + "file sha256 \(fetch.fileSHA256?.prefix(12) ?? "-")…")
            } else {
                print(
                    "  \(channel.name): nothing staged; see `recon bills show --channel \(channel.name) --date \(day)`")
            }
        }
        let retried =
            try await pool.query(
                "SELECT count(*) FROM recon_jobs WHERE id = ANY($1) AND jsonb_array_length(errors) > 0", [PGArray(ids)]
            ).first?.decode(Int64.self, at: 0) ?? 0
        print("  (\(retried) fetch retried after the channel's HTTP 500, as the mock was told to fail once)")
    }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
