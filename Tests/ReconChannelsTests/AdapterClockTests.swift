import Foundation
import Logging
import ReconConfig
import ReconCore
import ReconHTTP
import Testing

@testable import ReconChannels

/// The adapters read the time from the session's clock (the job handler's, which tests move),
/// never from the machine: each request's timestamp is that clock's Beijing time.
@Suite struct AdapterClockTests {
    /// 2026-11-24 02:00:00.123456 UTC: 10:00:00 in Beijing.
    static let clock: @Sendable () -> Int64 = { 1_795_485_600_123_456 }

    /// (the channel's table, `PORT` for the capture server's port; the canned answer's status and
    /// body; what the request must hold)
    static let channels: [(String, Int, String, String)] = [
        (
            """
            name = "alipay-main"
            adapter = "alipay"
            base_url = "http://127.0.0.1:PORT/gateway.do"
            merchant_id = "2088000000000000"
            app_id = "2021000000000000"
            """, 200, AlipayAnswerTests.gateway("40004", "Business Failed", sub: "isp.bill_not_exist"),
            "timestamp=2026-11-24+10%3A00%3A00"
        ),
        (
            """
            name = "wechat-main"
            adapter = "wechatpay"
            base_url = "http://127.0.0.1:PORT"
            merchant_id = "1900000000"
            certificate_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
            """, 400, WeChatPayAnswerTests.error("STATEMENT_CREATING", "生成中"), "timestamp=\"1795485600\""
        ),
        (
            """
            name = "unionpay-main"
            adapter = "unionpay"
            base_url = "http://127.0.0.1:PORT/"
            merchant_id = "802310048993424"
            cert_id = "68759663125"
            """, 200, "respCode=98&respMsg=file not found&settleDate=1123", "txnTime=20261124100000"
        ),
    ]

    @Test(arguments: channels)
    func requestsAreTimestampedByTheSessionsClock(table: String, status: Int, body: String, stamp: String)
        async throws
    {
        let server = try CaptureServer(status: status, body: body)
        defer { server.stop() }
        let text =
            "[[channel]]\n" + table.replacingOccurrences(of: "PORT", with: "\(server.port)")
            + "\nprivate_key = { env = \"RECON_TEST_KEY\" }\n"
        let channel = try #require(try JobFile.parse(text, file: "channels.toml").channels.first)
        let folder = NSTemporaryDirectory() + "recon-adapter-clock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var logger = Logger(label: "recon-adapter-clock-test")
        logger.logLevel = .warning
        let session = FetchSession(
            channel: channel, day: try #require(LocalDay("2026-11-23")), workFolder: folder, http: HTTPClient(),
            limiter: nil, recorder: nil, holder: "test",
            secrets: SecretResolver(environment: ["RECON_TEST_KEY": SDKTestKey.privatePEM]), clock: Self.clock,
            logger: logger)
        // The canned answers all say "not yet": what matters is the request.
        switch try await ChannelAdapters.make(for: channel).fetch(session) {
        case .noBill, .notReady: break
        case let outcome: Issue.record("\(channel.name): unexpected \(outcome)")
        }
        let request = try #require(server.received.first)
        #expect(request.contains(stamp), "\(channel.name) sent \(request)")
    }
}
