import Foundation
import ReconCore
import ReconMockChannel
import ReconPostgres
import ReconTestSupport
import Testing

/// `fetch_bill` for WeChat Pay v3 against the mock: signed requests (the mock checks them with the
/// merchant's public key), signed answers (checked with the mock's platform key), gzip + SHA-1.
@Suite(.serialized) struct WeChatBillTests {
    static let merchant = "1900000001"

    static func channel(_ name: String, base: String, data: String, key: String, merchant: String = merchant) -> String
    {
        """
        [[channel]]
        name = "\(name)"
        adapter = "wechatpay"
        base_url = "\(base)"
        merchant_id = "\(merchant)"
        certificate_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
        private_key = { file = "\(key)" }
        platform_public_key = { file = "\(data)/wechatpay/platform_public_key.pem" }
        ready_after = "00:00"
        deadline = "23:59"
        poll_interval = "1s"
        retry = { max_attempts = 5, base = "200ms", cap = "1s" }

        """
    }

    @Test func wechatBillsRoundTripAndEveryFaultEndsAsTheTableSays() async throws {
        let yesterday = BankFaultTests.beijingDay(offset: -1)
        let fixture = try await BillFixture(label: "wechat")
        let key = try fixture.makeKey(
            name: "wechat", publicPath: "\(fixture.data)/wechatpay/\(Self.merchant)/merchant_public_key.pem")
        let strangerKey = try fixture.makeKey(name: "stranger", publicPath: nil)
        try await fixture.startMock(
            lines: 400,
            faults: [
                "wechatpay:2026-11-02:fail_503:1", "wechatpay:2026-11-03:rate_limit_429:1:1",
                "wechatpay:\(yesterday):not_ready:2",
                "wechatpay:2026-11-04:no_business:1", "wechatpay:2026-11-05:wrong_hash:1",
                "wechatpay:2026-11-06:corrupt_archive:1",
                "wechatpay:2026-11-07:cut_body:1", "wechatpay:2026-11-08:auth_error:0",
            ])
        try fixture.writeJobFile(
            Self.channel("wechat-main", base: fixture.mockURL, data: fixture.data, key: key)
                + Self.channel("wechat-stranger", base: fixture.mockURL, data: fixture.data, key: strangerKey))
        try await fixture.startDaemons(workers: 2, environment: ["RECON_LOG_LEVEL": "debug"])

        let dates = [
            "2026-11-01", "2026-11-02", "2026-11-03", yesterday, "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07",
            "2026-11-08",
        ]
        var jobs: [String: Int64] = [:]
        for date in dates { jobs[date] = try await fixture.enqueueFetch(channel: "wechat-main", date: date) }
        // Signed with a key the mock does not know for that merchant: SIGN_ERROR, dead at once.
        let stranger = try await fixture.enqueueFetch(channel: "wechat-stranger", date: "2026-11-01")

        func expectTruth(_ date: String) async throws {
            let truth = try await fixture.expectStagedTruth(
                "wechat-main", date: date, mock: "wechatpay", merchant: Self.merchant)
            #expect(truth.payments > 0 && truth.refunds > 0)
            let rounding = try await fixture.harness.pool.query(
                "SELECT fee_rounding_units FROM bill_fetches WHERE channel = 'wechat-main' AND bill_date = $1::date",
                [date]
            ).first?.decode(Int64.self, at: 0)
            #expect(rounding == truth.feeUnits - truth.feeFen * 1000)
        }
        for date in ["2026-11-01", "2026-11-02", "2026-11-03", yesterday, "2026-11-05", "2026-11-06", "2026-11-07"] {
            let id = try #require(jobs[date])
            let state = try await fixture.waitUntilFinished(id)
            let errors = try await fixture.jobErrors(id)
            #expect(state == "completed", "\(date): \(errors)")
            try await expectTruth(date)
        }
        #expect(try await fixture.harness.jobState(try #require(jobs[yesterday])).attempt == 1)
        #expect(try await fixture.jobErrors(try #require(jobs["2026-11-02"])).contains("SYSTEM_ERROR"))
        #expect(try await fixture.jobErrors(try #require(jobs["2026-11-03"])).contains("429"))
        #expect(try await fixture.jobErrors(try #require(jobs["2026-11-05"])).contains("the API announced"))
        let corrupted = try await fixture.jobErrors(try #require(jobs["2026-11-06"]))
        #expect(corrupted.contains("nothing staged") && corrupted.contains("gzip"), "\(corrupted)")

        let empty = try #require(jobs["2026-11-04"])
        #expect(try await fixture.waitUntilFinished(empty) == "completed")
        #expect(try await fixture.staged("wechat-main", "2026-11-04").lines == 0)
        let outcome = try await fixture.harness.pool.query(
            "SELECT outcome FROM bill_fetches WHERE channel = 'wechat-main' AND bill_date = '2026-11-04'"
        ).first?.decode(String.self, at: 0)
        #expect(outcome == "empty")

        for id in [try #require(jobs["2026-11-08"]), stranger] {
            #expect(try await fixture.waitUntilFinished(id) == "dead")
            #expect(try await fixture.harness.jobState(id).attempt == 1)
            #expect(try await fixture.jobErrors(id).contains("SIGN_ERROR"))
        }
        // The download URL's token and the keys reach no log and no record.
        await fixture.stop()
        let logs = (fixture.harness.workers + fixture.harness.coordinators).map(\.output).joined()
        let attempts =
            try await fixture.harness.pool.query(
                "SELECT string_agg(url || coalesce(detail, ''), ' ') FROM bill_fetch_attempts"
            ).first?.decode(String.self, at: 0) ?? ""
        #expect(attempts.contains("/v3/billdownload/file"))
        #expect(!attempts.contains("token="))
        let pem = try String(contentsOfFile: key, encoding: .utf8)
        let keyBody = pem.split(separator: "\n").dropFirst().first.map(String.init) ?? "unreachable"
        for text in [logs, attempts, try await fixture.jobErrors(stranger)] {
            #expect(!text.contains(keyBody))
            #expect(!text.contains("token="))
        }
    }
}
