import Foundation
import Logging
import ReconBillJobs
import ReconChannels
import ReconConfig
import ReconCore
import ReconHTTP
import ReconMockChannel
import ReconTestSupport

/// `recon mock-channel` served in this process on a free loopback port, with a data folder of its
/// own, for as long as `body` runs; then stopped and the folder removed.
func withMockChannel<T>(
    lines: Int = 200, faults: [Fault] = [], _ body: (_ mock: MockChannel) async throws -> T
) async throws -> T {
    let folder = NSTemporaryDirectory() + "recon-channels-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let server = MockChannelServer(
        configuration: .init(dataFolder: folder + "/data", linesPerDay: lines, faults: faults))
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let logger = {
        var logger = Logger(label: "recon-mock-channel")
        logger.logLevel = .critical
        return logger
    }()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { portSink.finish() }
            try await server.run(logger: logger) { port in
                portSink.yield(port)
                portSink.finish()
            }
        }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw DaemonError("the mock channel did not start") }
        return try await body(MockChannel(server: server, base: "http://127.0.0.1:\(port)", folder: folder))
    }
}

struct MockChannel: Sendable {
    let server: MockChannelServer
    let base: String
    /// Scratch space of the test, removed with the mock: work folders go under it.
    let folder: String

    /// A `bank_csv` channel on merchant `m001` of this mock.
    func bankChannel(name: String = "bank-a", concurrentRequests: Int = 2) throws -> ChannelDefinition {
        try Self.channel(
            """
            [[channel]]
            name = "\(name)"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(base)/bills/{merchant}/{date:%Y%m%d}.csv"
            total_timeout = "60s"
            limits = { concurrent_requests = \(concurrentRequests), requests_per_second = 100 }
            """)
    }

    /// A `wechatpay` channel on this mock, signing with the key at `privateKey` and verifying
    /// answers with the mock's platform key.
    func wechatChannel(merchant: String, privateKey: String) throws -> ChannelDefinition {
        try Self.channel(
            """
            [[channel]]
            name = "wechat-a"
            adapter = "wechatpay"
            base_url = "\(base)"
            merchant_id = "\(merchant)"
            certificate_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
            private_key = { file = "\(privateKey)" }
            platform_public_key = { file = "\(folder)/data/wechatpay/platform_public_key.pem" }
            total_timeout = "60s"
            """)
    }

    private static func channel(_ text: String) throws -> ChannelDefinition {
        guard let channel = try JobFile.parse(text, file: "channels.toml").channels.first else {
            throw DaemonError("channels.toml defines no channel")
        }
        return channel
    }

    /// The URL of the bank file of `day`.
    func bankURL(_ day: LocalDay) -> String {
        "\(base)/bills/m001/\(MockBillStore.compact(day)).csv"
    }

    /// A fetch session of `channel` for `day`, working in a fresh folder.
    func session(_ channel: ChannelDefinition, day: LocalDay, limiter: ChannelLimiter? = nil) -> FetchSession {
        var logger = Logger(label: "recon-channels-test")
        logger.logLevel = .warning
        return FetchSession(
            channel: channel, day: day, workFolder: folder + "/work-\(UUID().uuidString)", http: HTTPClient(),
            limiter: limiter, recorder: nil, holder: "test/\(UUID().uuidString)", logger: logger)
    }
}
