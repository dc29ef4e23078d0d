import Foundation
import ReconConfig
import ReconCore
import Testing

@testable import ReconBills

@Suite struct BankCSVProfileTests {
    /// A GBK, tab-separated bank with fen amounts, refunds written positive, fees written negative
    /// when charged, its own kind words, slashes in dates and a two-line preamble.
    static let gbkToml = #"""
        [channel.icbc]
        url_template = "https://bank.example/{date:%Y%m%d}.txt"
        encoding = "gbk"
        delimiter = "\t"
        quote = ""
        skip_lines = 2
        amount_unit = "fen"
        refund_sign = "positive"
        fee_sign = "charged_negative"
        time_format = "%Y/%m/%d %H:%M:%S"
        time_zone = "+08:00"
        trailer = '^合计\t(?<count>\d+)\t(?<sum>\d+)\t(?<fee>-?\d+)$'
        columns = { txn_id = "流水号", order_id = "订单号", kind = "类型", amount = "金额", fee = "手续费", time = "时间" }
        kind_map = { "消费" = "payment", "退货" = "refund" }
        """#

    static let gbkText =
        "工商银行 商户对账单\r\n商户：123456\r\n"
        + "流水号\t订单号\t类型\t金额\t手续费\t时间\r\n"
        + "B1\tR1\t消费\t5000\t-30\t2026/11/23 09:15:07\r\n"
        + "B2\tR1\t退货\t2000\t12\t2026/11/23 17:40:11\r\n"
        + "B3\tR3\t消费\t100\t0\t2026/11/24 01:30:00\r\n"
        + "合计\t3\t7100\t-18\r\n"

    func profile(_ toml: String, channel: String = "icbc") throws -> BankCSVProfile {
        let root = try TOMLTableReader(parsing: toml, file: "jobs/bank.toml")
        let table = try root.table("channel").table(channel)
        let profile = try BankCSVProfile(reading: table)
        _ = try table.optionalString("url_template")  // the transport's key, read by the fetcher
        try root.finish()
        return profile
    }

    func parse(_ bytes: [UInt8], _ profile: BankCSVProfile, chunk: Int = 1 << 20) throws(BillError) -> [BillLine] {
        var parser = BankCSVParser(file: "icbc.txt", channel: "icbc", billDate: testDay, profile: profile)
        return try parseAll(&parser, bytes, chunk: chunk)
    }

    @Test(arguments: [1, 7, 1 << 20])
    func aGBKTabFenProfileParsesTheSameInAnyChunks(chunk: Int) throws {
        let profile = try profile(BankCSVProfileTests.gbkToml)
        #expect(profile.encoding == .gbk && profile.delimiter == 9 && profile.quote == nil)
        #expect(profile.kindMap == ["消费": .payment, "退货": .refund])
        let lines = try parse(try GBK.encode(BankCSVProfileTests.gbkText), profile, chunk: chunk)
        #expect(lines.map(\.amountFen) == [5000, -2000, 100])
        #expect(lines.map(\.feeFen) == [30, -12, 0])
        #expect(lines.map(\.kind) == [.payment, .refund, .payment])
        #expect(lines.map(\.lineNumber) == [4, 5, 6])
        #expect(lines[0].timeMicroseconds == 1_795_396_507_000_000)
        #expect(lines[0].merchantOrderID == "R1" && lines[1].channelTransactionID == "B2")
        // 01:30 the next day is past the hour of tolerance.
        #expect(lines.map { $0.flag != nil } == [false, false, true])
        #expect(lines[2].flag?.contains("2026/11/24 01:30:00 is outside 2026-11-22 23:00:00") == true)
    }

    @Test func theSummaryCountsWhatWasParsedAndQuotesTheTrailer() throws {
        var parser = BankCSVParser(
            file: "icbc.txt", channel: "icbc", billDate: testDay, profile: try profile(BankCSVProfileTests.gbkToml))
        _ = try parseAll(&parser, try GBK.encode(BankCSVProfileTests.gbkText))
        #expect(
            parser.summary
                == BillSummary(
                    lines: 3, payments: 2, refunds: 1, amountFen: 3100, feeFen: 18, flagged: 1,
                    declaredTotals: "合计\t3\t7100\t-18"))
    }

    @Test func theTrailerSumIsOverTheAmountsAsWritten() throws {
        let text = BankCSVProfileTests.gbkText.replacingOccurrences(of: "合计\t3\t7100", with: "合计\t3\t3100")
        let (bytes, profile) = (try GBK.encode(text), try loadProfile())
        let error = billError { () throws(BillError) in _ = try parse(bytes, profile) }
        #expect(error?.line == 7 && error?.column == "sum" && error?.check == "trailer")
        #expect(error?.description.contains("the trailer's sum is 3100 fen, the lines add up to 7100 fen") == true)
    }

    @Test func aKindTheMapDoesNotCoverIsRefusedNamingLineAndColumn() throws {
        let text = BankCSVProfileTests.gbkText.replacingOccurrences(of: "B3\tR3\t消费", with: "B3\tR3\t冲正")
        let (bytes, profile) = (try GBK.encode(text), try loadProfile())
        let error = billError { () throws(BillError) in _ = try parse(bytes, profile) }
        #expect(error?.line == 6 && error?.column == "类型" && error?.check == "kind")
        #expect(error?.reason.contains("冲正 is neither payment nor refund") == true)
    }

    @Test func badGBKBytesAreRefusedNamingLineAndColumn() throws {
        var bytes = try GBK.encode(BankCSVProfileTests.gbkText)
        let at = try #require(
            bytes.indices.first { bytes[$0] == UInt8(ascii: "R") && bytes[$0 + 1] == UInt8(ascii: "3") })
        bytes[at] = 0xFF
        let profile = try loadProfile()
        let error = billError { () throws(BillError) in _ = try parse(bytes, profile) }
        #expect(error?.line == 6 && error?.column == "订单号" && error?.check == "encoding")
        #expect(error?.reason == "not valid GBK at byte 0")
    }

    @Test func withoutAHeaderColumnsAreIndicesAndTheSignDecides() throws {
        let toml = """
            [channel.plain]
            header = false
            trailer = ""
            time_format = "%Y-%m-%dT%H:%M:%S"
            time_zone = "UTC"
            columns = { time = 0, txn_id = 1, amount = 2, status = 4 }
            """
        let text = "\u{FEFF}2026-11-23T01:15:07,T1,50.00,ignored,OK\n2026-11-23T09:40:11+08:00,T2,-20.00,,OK\n"
        let lines = try parse(Array(text.utf8), try profile(toml, channel: "plain"), chunk: 1)
        #expect(lines.map(\.kind) == [.payment, .refund])
        #expect(lines.map(\.amountFen) == [5000, -2000])
        #expect(lines.map(\.channelStatus) == ["OK", "OK"])
        // 01:15:07 UTC, and 09:40:11 at +08:00 (the value's own offset wins over UTC).
        #expect(lines.map(\.timeMicroseconds) == [1_795_396_507_000_000, 1_795_398_011_000_000])
        let plain = try profile(toml, channel: "plain")
        let short = billError { () throws(BillError) in
            _ = try parse(Array((text + "2026-11-23T10:00:00,T3,1.00\n").utf8), plain)
        }
        #expect(short?.line == 3 && short?.check == "field count")
    }

    @Test func theDefaultProfileIsReconBankV1() throws {
        let fromToml = try profile(
            "[channel.b]\ncolumns = { txn_id = \"channel_txn_id\", amount = \"amount\", time = \"txn_time\", order_id = \"merchant_order_id\", refund_id = \"refund_id\", kind = \"kind\", fee = \"fee\", status = \"status\", currency = \"currency\" }",
            channel: "b")
        #expect(fromToml == BankCSVProfile.reconBankV1)
        #expect(BankCSVProfile.reconBankV1.trailer?.literalPrefix == "#TOTAL,")
    }

    @Test func onlyLinesStartingWithTheTrailersLiteralPrefixAreMatched() throws {
        #expect(BankCSVTrailer.literalPrefix(BankCSVProfile.defaultTrailerPattern) == "#TOTAL,")
        #expect(BankCSVTrailer.literalPrefix("^ab?c(?<count>\\d+)$") == "a")
        #expect(BankCSVTrailer.literalPrefix("^#T(?<count>\\d+)$|^END") == "")
        #expect(BankCSVTrailer.literalPrefix("#T(?<count>\\d+)") == "")
        let trailer = try BankCSVTrailer("^(合计|TOTAL),(?<count>\\d+)$")
        #expect(trailer.match("TOTAL,3") == ["count": "3"] && trailer.match("合计,0") == ["count": "0"])
        #expect(trailer.match("TOTAL,3,") == nil)
    }

    @Test func aProfileMistakeMadeInCodeIsRefusedAtTheFirstBytes() {
        var profile = BankCSVProfile.reconBankV1
        profile.refundSign = .absolute
        profile.columns.kind = nil
        let error = billError { () throws(BillError) in _ = try parse(Array("x".utf8), profile) }
        #expect(error?.check == "profile" && error?.column == "refund_sign")
    }

    private func loadProfile() throws -> BankCSVProfile { try profile(BankCSVProfileTests.gbkToml) }
}
