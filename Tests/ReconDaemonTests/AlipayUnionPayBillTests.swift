import Foundation
import ReconCore
import ReconMockChannel
import ReconPostgres
import ReconTestSupport
import Testing

/// `fetch_bill` for Alipay and UnionPay against the mock, through real processes.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct AlipayUnionPayBillTests {
    func expectTruth(_ fixture: BillFixture, channel: String, mockChannel: String, merchant: String, date: String)
        async throws
    {
        let truth = try await fixture.expectStagedTruth(channel, date: date, mock: mockChannel, merchant: merchant)
        #expect(truth.payments > 0 && truth.refunds > 0)
    }

    @Test func alipayBillsRoundTripWithGBKAndFaultsEndAsTheTableSays() async throws {
        let yesterday = BankFaultTests.beijingDay(offset: -1)
        let appID = "2021000000000042"
        let fixture = try await BillFixture(label: "alipay")
        let key = try fixture.makeKey(
            name: "alipay-app", publicPath: "\(fixture.data)/alipay/\(appID)/app_public_key.pem")
        let stranger = try fixture.makeKey(name: "stranger", publicPath: nil)
        try await fixture.startMock(
            lines: 300,
            faults: [
                "alipay:2026-11-02:fail_503:1", "alipay:2026-11-03:rate_limit_429:1", "alipay:\(yesterday):not_ready:2",
                "alipay:2026-11-04:corrupt_archive:1", "alipay:2026-11-05:cut_body:1", "alipay:2026-11-06:auth_error:0",
                "alipay:2026-11-07:not_ready:0", "alipay:2026-11-08:not_ready:0",
            ])
        func channel(_ name: String, key: String) -> String {
            """
            [[channel]]
            name = "\(name)"
            adapter = "alipay"
            base_url = "\(fixture.mockURL)/gateway.do"
            merchant_id = "2088000000000042"
            app_id = "\(appID)"
            private_key = { file = "\(key)" }
            alipay_public_key = { file = "\(fixture.data)/alipay/alipay_public_key.pem" }
            ready_after = "00:00"
            deadline = "23:59"
            poll_interval = "1s"
            retry = { max_attempts = 5, base = "200ms", cap = "1s" }

            """
        }
        try fixture.writeJobFile(channel("alipay-main", key: key) + channel("alipay-stranger", key: stranger))
        try await fixture.startDaemons(workers: 2)
        // "No bill" is "not published yet" on a day our records have legs for; the 8th has none.
        try await fixture.addLeg(channel: "alipay-main", date: yesterday)
        try await fixture.addLeg(channel: "alipay-main", date: "2026-11-07")
        var jobs: [String: Int64] = [:]
        for date in [
            "2026-11-01", "2026-11-02", "2026-11-03", yesterday, "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07",
            "2026-11-08",
        ] {
            jobs[date] = try await fixture.enqueueFetch(channel: "alipay-main", date: date)
        }
        let strangerJob = try await fixture.enqueueFetch(channel: "alipay-stranger", date: "2026-11-01")

        for date in ["2026-11-01", "2026-11-02", "2026-11-03", yesterday, "2026-11-04", "2026-11-05"] {
            let id = try #require(jobs[date])
            let state = try await fixture.waitUntilFinished(id)
            let errors = try await fixture.jobErrors(id)
            #expect(state == "completed", "\(date): \(errors)")
            try await expectTruth(fixture, channel: "alipay-main", mockChannel: "alipay", merchant: appID, date: date)
        }
        #expect(try await fixture.jobErrors(try #require(jobs["2026-11-02"])).contains("isp.unknow-error"))
        #expect(try await fixture.jobErrors(try #require(jobs["2026-11-03"])).contains("aop.ACL_CALL_LIMITED"))
        #expect(try await fixture.harness.jobState(try #require(jobs[yesterday])).attempt == 1)
        // A byte flipped mid-archive is the archive's error (its CRC, size or deflate check),
        // not whatever the parser made of the damaged bytes first.
        let damaged = try await fixture.jobErrors(try #require(jobs["2026-11-04"]))
        #expect(damaged.contains("nothing staged"), "\(damaged)")
        #expect(["zip CRC-32", "zip size", "deflate", "zlib"].contains { damaged.contains(": \($0): ") }, "\(damaged)")
        // Refund rows arrive negative, with their refund ids (the details file is GBK throughout).
        let refunds = try await fixture.harness.pool.query(
            "SELECT count(*)::int8 FROM staged_bill_lines WHERE channel = 'alipay-main' AND kind = 'refund' AND amount_fen < 0 AND refund_id IS NOT NULL"
        ).first?.decode(Int64.self, at: 0)
        #expect((refunds ?? 0) > 0)

        for id in [try #require(jobs["2026-11-06"]), strangerJob] {
            #expect(try await fixture.waitUntilFinished(id) == "dead")
            #expect(try await fixture.harness.jobState(id).attempt == 1)
            #expect(try await fixture.jobErrors(id).contains("isv.invalid-signature"))
        }
        // "No bill" on a day whose deadline is long past: dead with the alert's words.
        let late = try #require(jobs["2026-11-07"])
        #expect(try await fixture.waitUntilFinished(late) == "dead")
        #expect(
            try await fixture.jobErrors(late).contains(
                "bill for 2026-11-07 not published by 2026-11-08 23:59 Asia/Shanghai, "))
        // The same answer on a day without a leg of ours is a day without business: zero lines.
        let empty = try #require(jobs["2026-11-08"])
        #expect(try await fixture.waitUntilFinished(empty) == "completed")
        let outcome = try await fixture.harness.pool.query(
            "SELECT outcome, lines FROM bill_fetches WHERE channel = 'alipay-main' AND bill_date = '2026-11-08'"
        ).first
        #expect(try outcome?.decode(String.self, at: 0) == "empty" && outcome?.decode(Int64.self, at: 1) == 0)
        await fixture.stop()
    }

    @Test func unionpayFilesRoundTripAndFaultsEndAsTheTableSays() async throws {
        let merId = "802310048993424"
        let fixture = try await BillFixture(label: "unionpay")
        let key = try fixture.makeKey(
            name: "unionpay", publicPath: "\(fixture.data)/unionpay/\(merId)/merchant_public_key.pem")
        try await fixture.startMock(
            lines: 300,
            faults: [
                "unionpay:2026-11-02:fail_503:1", "unionpay:2026-11-03:corrupt_archive:1",
                "unionpay:2026-11-04:truncated_body:1",
                "unionpay:2026-11-05:auth_error:0", "unionpay:2026-11-06:cut_body:1",
                "unionpay:2026-11-07:bad_signature:0",
            ])
        // unionpay-main verifies every answer with the mock's chain; unionpay-unverified, without
        // root_cert, does not, and takes a tampered answer as it comes.
        func channel(_ name: String, certificates: String) -> String {
            """
            [[channel]]
            name = "\(name)"
            adapter = "unionpay"
            base_url = "\(fixture.mockURL)/"
            merchant_id = "\(merId)"
            cert_id = "69629715588"
            private_key = { file = "\(key)" }
            retry = { max_attempts = 5, base = "200ms", cap = "1s" }
            \(certificates)

            """
        }
        try fixture.writeJobFile(
            channel("unionpay-main", certificates: fixture.unionPayCertificates)
                + channel("unionpay-unverified", certificates: ""))
        try await fixture.startDaemons(workers: 2)
        var jobs: [String: Int64] = [:]
        for date in ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07"] {
            jobs[date] = try await fixture.enqueueFetch(channel: "unionpay-main", date: date)
        }
        let unverified = try await fixture.enqueueFetch(channel: "unionpay-unverified", date: "2026-11-07")
        for date in ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-06"] {
            let id = try #require(jobs[date])
            let state = try await fixture.waitUntilFinished(id)
            let errors = try await fixture.jobErrors(id)
            #expect(state == "completed", "\(date): \(errors)")
            try await expectTruth(
                fixture, channel: "unionpay-main", mockChannel: "unionpay", merchant: merId, date: date)
        }
        #expect(try await fixture.jobErrors(try #require(jobs["2026-11-02"])).contains("HTTP 503"))
        let corrupted = try await fixture.jobErrors(try #require(jobs["2026-11-03"]))
        #expect(corrupted.contains("not staged"), "\(corrupted)")
        #expect(
            ["zip CRC-32", "zip size", "deflate", "zlib"].contains { corrupted.contains(": \($0): ") }, "\(corrupted)")
        let truncated = try await fixture.jobErrors(try #require(jobs["2026-11-04"]))
        #expect(truncated.contains("not staged"), "\(truncated)")
        let refused = try #require(jobs["2026-11-05"])
        #expect(try await fixture.waitUntilFinished(refused) == "dead")
        #expect(try await fixture.jobErrors(refused).contains("respCode 11"))

        // A tampered answer: dead at once as a wrong signature is, naming the check, channel and day;
        // nothing staged. The same answer to a channel that does not verify is staged.
        let tampered = try #require(jobs["2026-11-07"])
        #expect(try await fixture.waitUntilFinished(tampered) == "dead")
        #expect(try await fixture.harness.jobState(tampered).attempt == 1)
        let errors = try await fixture.jobErrors(tampered)
        #expect(
            errors.contains("unionpay-main UnionPay file 2026-11-07") && errors.contains("signature check failed"),
            "\(errors)")
        #expect(!errors.contains("BEGIN"), "\(errors)")
        #expect(try await fixture.staged("unionpay-main", "2026-11-07").lines == 0)
        let unverifiedState = try await fixture.waitUntilFinished(unverified)
        let unverifiedErrors = try await fixture.jobErrors(unverified)
        #expect(unverifiedState == "completed", "\(unverifiedErrors)")
        try await expectTruth(
            fixture, channel: "unionpay-unverified", mockChannel: "unionpay", merchant: merId, date: "2026-11-07")
        await fixture.stop()
    }
}
