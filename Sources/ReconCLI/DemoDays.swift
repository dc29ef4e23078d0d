import Foundation
import Logging
import ReconChannels
import ReconConfig
import ReconCore
import ReconFixtures
import ReconMockChannel
import ReconPostgres
import ReconReconcile
import _CryptoExtras

/// The data side of `recon demo`: a mock channel server in this process serving all four bill
/// formats, the synthetic channels' job file pointing at it (keys made for the run, referenced by
/// file), and each day's bills (where the mock serves them), payments and ledger, written by the
/// synthetic day generator and imported.
struct DemoDays {
    let folder: String
    let first: SyntheticDay
    var jobs: String { folder + "/jobs" }
    var data: String { folder + "/data" }
    var downloads: String { folder + "/downloads" }
    var archive: String { folder + "/archive" }
    var spool: String { folder + "/spool" }
    var settlements: String { folder + "/settlements" }

    /// Bill lines a channel for about `legs` payment legs a day: the generator makes 1.21 legs a
    /// bill line, over four channels.
    static func linesPerChannel(legs: Int) -> Int { max(20, legs * 100 / 484) }

    init(legs: Int, firstDay: LocalDay, keep: Bool) throws {
        folder =
            (keep ? FileManager.default.currentDirectoryPath + "/" : NSTemporaryDirectory())
            + "recon-demo-\(firstDay)-\(UUID().uuidString.prefix(8))"
        // Channels named demo-…, so that the demo's rows can never be taken for a real channel's.
        let channels = SyntheticChannel.standard.map { channel in
            var demo = channel
            demo.name = "demo-" + channel.name.replacingOccurrences(of: "-main", with: "")
            return demo
        }
        first = SyntheticDay(
            seed: 20_261_123, day: firstDay, channels: channels, linesPerChannel: Self.linesPerChannel(legs: legs))
        for sub in ["jobs", "data", "downloads", "archive", "spool", "settlements"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// Starts the mock with `faults` and writes the job file pointing at it.
    func startMock(faults: [Fault]) async throws -> Task<Void, any Error> {
        let server = MockChannelServer(configuration: .init(dataFolder: data, linesPerDay: 10, faults: faults))
        // Cancelling the server at the end makes Hummingbird log its cancelled child channel at
        // error level; nothing went wrong, so the demo's mock logs only what is critical.
        var logger = Logger(label: "recon.demo.mock-channel")
        logger.logLevel = .critical
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.run(logger: logger) { port in sink.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw DemoError("the mock channel server did not start") }
        try writeJobFile(base: "http://127.0.0.1:\(port)")
        return task
    }

    private func writeJobFile(base: String) throws {
        var text = "# Written by `recon demo`: the synthetic day's four channels, all pointing at the mock server.\n"
        for channel in first.channels {
            let common = """
                [[channel]]
                name = "\(channel.name)"
                merchant_id = "\(channel.adapter == .alipay ? channel.partnerID ?? "" : channel.merchant)"
                ready_after = "00:00"
                deadline = "23:59"
                poll_interval = "2s"
                shards = 4
                retry = { max_attempts = 8, base = "500ms", cap = "2s" }
                """
            switch channel.adapter {
            case .alipay:
                text += """
                    \(common)
                    adapter = "alipay"
                    base_url = "\(base)/gateway.do"
                    app_id = "\(channel.merchant)"
                    private_key = { file = "\(try key("alipay"))" }
                    alipay_public_key = { file = "\(data)/alipay/alipay_public_key.pem" }


                    """
            case .wechatpay:
                text += """
                    \(common)
                    adapter = "wechatpay"
                    base_url = "\(base)"
                    certificate_serial = "DEMO0001"
                    private_key = { file = "\(try key("wechat"))" }
                    platform_public_key = { file = "\(data)/wechatpay/platform_public_key.pem" }


                    """
            case .unionpay:
                text += """
                    \(common)
                    adapter = "unionpay"
                    base_url = "\(base)/"
                    cert_id = "69629715588"
                    private_key = { file = "\(try key("unionpay"))" }
                    root_cert = { file = "\(data)/unionpay-root.pem" }
                    middle_cert = { file = "\(data)/unionpay-middle.pem" }


                    """
            case .bankCSV:
                text += """
                    \(common)
                    adapter = "bank_csv"
                    url_template = "\(base)/bills/{merchant}/{date:%Y%m%d}.csv"
                    sha256_suffix = ".sha256"


                    """
            }
        }
        try text.write(toFile: jobs + "/channels.toml", atomically: true, encoding: .utf8)
    }

    /// A private key for the run, readable by this user only, as a real key file must be.
    private func key(_ name: String) throws -> String {
        let path = "\(folder)/\(name).pem"
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation.utf8),
                attributes: [.posixPermissions: 0o600])
        else { throw DemoError("cannot write \(path)") }
        return path
    }

    /// Writes a day's bills where the mock serves them, and imports its payments and ledger.
    func give(_ day: SyntheticDay, pool: PGPool) async throws -> (
        summary: SyntheticDaySummary, legs: Int64, entries: Int64, generated: Duration, imported: Duration
    ) {
        let clock = ContinuousClock()
        let start = clock.now
        let payments = "\(folder)/payments-\(day.day).csv"
        let ledger = "\(folder)/ledger-\(day.day).csv"
        let summary = try day.writeFiles(dataFolder: data, paymentsPath: payments, ledgerPath: ledger)
        let written = clock.now
        var keying: [String: RecordImporter.ChannelKeying] = [:]
        for channel in try JobFile.load(directory: jobs).channels {
            keying[channel.name] = RecordImporter.ChannelKeying(rule: channel.keyRule, timeZone: channel.timeZone)
        }
        let channels = keying
        let legs = try await pool.transaction(name: "demo: import payments") { connection in
            try RecordImporter.importPayments(ImportInput(path: payments), channels: channels, on: connection)
        }
        let entries = try await pool.transaction(name: "demo: import ledger") { connection in
            try RecordImporter.importLedger(ImportInput(path: ledger), on: connection)
        }
        return (summary, legs.rows, entries.rows, written - start, clock.now - written)
    }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
