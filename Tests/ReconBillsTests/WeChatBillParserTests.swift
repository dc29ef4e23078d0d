import Foundation
import ReconCore
import Testing

@testable import ReconBills

@Suite struct WeChatBillParserTests {
    static let header =
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
    static let payment =
        "`2026-11-23 09:15:07,`wx0000000000000000,`1900000000,`0,`,`4200000000202611230000000001,`R20261123000001,`oSYNTHETIC0000000000000001,`JSAPI,`SUCCESS,`OTHERS,`CNY,`50.00,`0.00,`0,`0,`0.00,`0.00,`,`,`测试商品A,`,`0.30000,`0.60%,`50.00,`0.00,`"
    static let refund =
        "`2026-11-23 17:40:11,`wx0000000000000000,`1900000000,`0,`,`4200000000202611230000000001,`R20261123000001,`oSYNTHETIC0000000000000001,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50300000002026112300000000001,`RF20261123000001,`20.00,`0.00,`ORIGINAL,`SUCCESS,`测试商品A,`,`-0.12000,`0.60%,`0.00,`20.00,`"
    static let totalsHeader = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    static let totals = "`2,`50.00,`20.00,`0.00,`0.18000,`50.00,`20.00"
    /// CHANNELS.md §2.4, CRLF after every line.
    static let example = [header, payment, refund, totalsHeader, totals].map { $0 + "\r\n" }.joined()

    func parse(_ text: String, chunk: Int = 1 << 20) throws(BillError) -> (lines: [BillLine], summary: BillSummary) {
        var parser = WeChatBillParser(
            file: "wechat/20261123.csv", channel: "wechat", billDate: testDay, merchantID: "1900000000")
        let lines = try parseAll(&parser, Array(text.utf8), chunk: chunk)
        return (lines, parser.summary)
    }

    @Test(arguments: [1, 7, 1 << 20])
    func theExampleParsesToTwoLinesWithFeesRoundedToFen(chunk: Int) throws {
        let (lines, summary) = try parse(WeChatBillParserTests.example, chunk: chunk)
        #expect(lines.count == 2)
        let payment = lines[0]
        #expect(payment.kind == .payment && payment.amountFen == 5000 && payment.feeFen == 30)
        #expect(payment.channelTransactionID == "4200000000202611230000000001")
        #expect(payment.merchantOrderID == "R20261123000001" && payment.refundID == nil)
        #expect(payment.timeMicroseconds == 1_795_396_507_000_000 && payment.lineNumber == 2 && payment.flag == nil)
        #expect(payment.channelStatus == "SUCCESS")
        let refund = lines[1]
        #expect(refund.kind == .refund && refund.amountFen == -2000 && refund.feeFen == -12)
        #expect(refund.channelTransactionID == "4200000000202611230000000001" && refund.refundID == "RF20261123000001")
        #expect(refund.originalTransactionID == refund.channelTransactionID && payment.originalTransactionID == nil)
        #expect(refund.timeMicroseconds == 1_795_426_811_000_000 && refund.lineNumber == 3)
        #expect(summary.lines == 2 && summary.payments == 1 && summary.refunds == 1)
        #expect(
            summary.amountFen == 3000 && summary.feeFen == 18 && summary.feeRoundingUnits == 0 && summary.flagged == 0)
        #expect(summary.declaredTotals?.hasPrefix("总交易单数 2, 应结订单总金额 50.00") == true)
    }

    @Test func aBOMAndLFLineEndingsAreTolerated() throws {
        let text = "\u{FEFF}" + WeChatBillParserTests.example.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(try parse(text).lines.map(\.amountFen) == [5000, -2000])
    }

    @Test func anEmptyDayHasAHeaderAndZeroTotals() throws {
        let text = [Self.header, Self.totalsHeader, "`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00"].joined(
            separator: "\r\n")
        let (lines, summary) = try parse(text)
        #expect(lines.isEmpty && summary.lines == 0)
    }

    @Test func feesKeepFiveDecimalsUntilTheTotalIsCheckedThenRoundHalfAwayFromZero() throws {
        let text = WeChatBillParserTests.example
            .replacingOccurrences(of: "`0.30000,", with: "`0.00500,")
            .replacingOccurrences(of: "`-0.12000,", with: "`-0.00125,")
            .replacingOccurrences(of: "`0.18000,", with: "`0.00375,")
        let (lines, summary) = try parse(text)
        #expect(lines.map(\.feeFen) == [1, 0])
        // 375 units exact, 1 fen = 1000 units rounded.
        #expect(summary.feeRoundingUnits == -625 && summary.feeFen == 1)
    }

    /// A fee near Int64's limit in 1e-5 yuan rounds up to fen × 1000 past it, which trapped while
    /// the rounding difference was summed (Fuzz/corpus/wechatpay/regression-fee-near-int64-max).
    @Test func aFeeNearInt64sLimitRoundsWithoutATrap() throws {
        let text = WeChatBillParserTests.example
            .replacingOccurrences(of: "`0.30000,", with: "`92233720368547.75807,")
            .replacingOccurrences(of: "`0.18000,", with: "`92233720368547.63807,")
        let (lines, summary) = try parse(text)
        #expect(lines.map(\.feeFen) == [9_223_372_036_854_776, -12])
        #expect(summary.feeRoundingUnits == -193)
    }

    @Test func aLineOutsideTheDayIsStagedWithAFlag() throws {
        let text = WeChatBillParserTests.example.replacingOccurrences(
            of: "2026-11-23 17:40:11", with: "2026-11-24 00:00:01")
        let (lines, summary) = try parse(text)
        #expect(lines[1].flag == "交易时间 2026-11-24 00:00:01 is outside 2026-11-23")
        #expect(lines[0].flag == nil && summary.flagged == 1)
    }

    @Test func revokedIsARefundFlaggedAsUnconfirmed() throws {
        let text = WeChatBillParserTests.example.replacingOccurrences(of: "`REFUND,", with: "`REVOKED,")
        let lines = try parse(text).lines
        #expect(lines[1].kind == .refund && lines[1].amountFen == -2000)
        #expect(lines[1].flag?.contains("REVOKED") == true)
    }

    @Test func aSuccessBillMapsItsTwentyColumnsByName() throws {
        let dropped: Set = ["微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "申请退款金额"]
        let names = Self.header.split(separator: ",").map(String.init)
        let keep = names.indices.filter { !dropped.contains(names[$0]) }
        let row = WeChatBillParser.backtickFields(Self.payment)
        let text = [
            keep.map { names[$0] }.joined(separator: ","), "`" + keep.map { row[$0] }.joined(separator: ",`"),
            "总交易单数,应结订单总金额,手续费总金额,订单总金额", "`1,`50.00,`0.30000,`50.00",
        ].joined(separator: "\r\n")
        #expect(keep.count == 20)
        let lines = try parse(text).lines
        #expect(lines.map(\.amountFen) == [5000] && lines.map(\.feeFen) == [30])
    }

    @Test func aRefundBillTakesTheRefundTimeFromItsOwnColumn() throws {
        var names = Self.header.split(separator: ",").map(String.init)
        var row = WeChatBillParser.backtickFields(Self.refund)
        let at = try #require(names.firstIndex(of: "代金券金额")) + 1
        names.insert(contentsOf: ["退款申请时间", "退款成功时间"], at: at)
        row.insert(contentsOf: ["2026-11-23 17:39:00", "2026-11-23 17:40:11"], at: at)
        row[0] = "2026-11-23 09:15:07"  // the payment's time
        let text = [
            names.joined(separator: ","), "`" + row.joined(separator: ",`"), Self.totalsHeader,
            "`1,`0.00,`20.00,`0.00,`-0.12000,`0.00,`20.00",
        ].joined(separator: "\r\n")
        let lines = try parse(text).lines
        #expect(lines.map(\.amountFen) == [-2000] && lines.map(\.timeMicroseconds) == [1_795_426_811_000_000])
    }

    @Test(
        arguments: [
            (
                example.replacingOccurrences(of: "`0.18000,", with: "`0.18001,"), 5, "手续费总金额", "totals",
                "the 手续费 column adds up to 0.18000"
            ),
            (
                example.replacingOccurrences(of: "`2,`50.00", with: "`3,`50.00"), 5, "总交易单数", "totals",
                "says 3 rows, the file has 2"
            ),
            (
                example.replacingOccurrences(of: "`20.00,`0.00,`ORIGINAL", with: "`20.01,`0.00,`ORIGINAL"), 5, "退款总金额",
                "totals", "20.01"
            ),
            (
                example.replacingOccurrences(
                    of:
                        "`1900000000,`0,`,`4200000000202611230000000001,`R20261123000001,`oSYNTHETIC0000000000000001,`JSAPI,`SUCCESS",
                    with:
                        "`1900000001,`0,`,`4200000000202611230000000001,`R20261123000001,`oSYNTHETIC0000000000000001,`JSAPI,`SUCCESS"
                ), 2, "商户号", "identity", "1900000001 is not the configured merchant 1900000000"
            ),
            (
                example.replacingOccurrences(of: "`SUCCESS,`OTHERS,`CNY", with: "`SUCCESS,`OTHERS,`USD"), 2, "货币种类",
                "currency", "USD is not CNY"
            ),
            (
                example.replacingOccurrences(of: "`SUCCESS,`OTHERS", with: "`CLOSED,`OTHERS"), 2, "交易状态", "kind",
                "CLOSED is not SUCCESS, REFUND or REVOKED"
            ),
            (
                example.replacingOccurrences(of: "`REFUND,`OTHERS,`CNY,`0.00", with: "`REFUND,`OTHERS,`CNY,`20.00"), 3,
                "应结订单金额", "kind", "refund rows carry 0.00"
            ),
            (
                example.replacingOccurrences(of: "`0.60%,`50.00", with: "`0.60%,`12.345"), 2, "订单金额", "amount",
                "more than 2 decimal places"
            ),
            (
                example.replacingOccurrences(of: "`0.30000,", with: "`0.300001,"), 2, "手续费", "amount",
                "more than 5 decimal places"
            ),
            (
                example.replacingOccurrences(of: "`0.60%,`50.00,`0.00,`\r\n", with: "`0.60%,`50.00,`0.00\r\n"), 2, nil,
                "field count", "26 fields where the header has 27"
            ),
            (
                example.replacingOccurrences(of: "`2026-11-23 09:15:07", with: "`2026-11-23 9:15:07"), 2, "交易时间",
                "time", "not yyyy-MM-dd HH:mm:ss"
            ),
            (
                example.replacingOccurrences(of: "商户号,", with: "商户编号,"), 1, "商户编号", "header",
                "not a known WeChat bill column"
            ),
            (
                example.replacingOccurrences(of: totalsHeader + "\r\n" + totals + "\r\n", with: ""), nil, nil, "totals",
                "missing (the file may be cut)"
            ),
            (
                example.replacingOccurrences(of: totals + "\r\n", with: ""), 4, nil, "totals",
                "the totals line after the totals header is missing"
            ),
            (example + "extra\r\n", 6, nil, "frame", "a line follows the totals line"),
            (
                example.replacingOccurrences(of: "\r\n`2026-11-23 09:15:07", with: "\r\n2026-11-23 09:15:07"), 2, nil,
                "frame", "neither a data row"
            ),
            // Issue 14's bad input: a non-numeric amount, a negative payment, an extra field, a 0-byte
            // file, another channel's bill (a bank CSV).
            (
                example.replacingOccurrences(of: "`0.60%,`50.00", with: "`0.60%,`abc"), 2, "订单金额", "amount",
                "\"abc\" is not an amount in yuan"
            ),
            (
                example.replacingOccurrences(of: "`0.60%,`50.00", with: "`0.60%,`-50.00"), 2, "订单金额", "sign",
                "a payment of -50.00"
            ),
            (
                example.replacingOccurrences(of: "`0.60%,`50.00,`0.00,`\r\n", with: "`0.60%,`50.00,`0.00,`,`x\r\n"), 2,
                nil, "field count", "28 fields where the header has 27"
            ),
            ("", nil, nil, "frame", "the file is empty"),
            (BankCSVParserTests.good, 1, "txn_time", "header", "not a known WeChat bill column"),
        ] as [(String, Int?, String?, String, String)])
    func aBrokenBillIsRefusedNamingLineColumnAndCheck(
        text: String, line: Int?, column: String?, check: String, reason: String
    ) {
        let error = billError { () throws(BillError) in _ = try parse(text) }
        #expect(error?.file == "wechat/20261123.csv")
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.column == column, "\(String(describing: error))")
        #expect(error?.check == check, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    /// Totals that disagree with the complete rows contradict the bill (dead at once when staged);
    /// a cut file, without its totals or ending mid-row, does not (fetched again).
    @Test func onlyTotalsThatDisagreeContradictTheBill() {
        let example = WeChatBillParserTests.example
        let disagreeing = [
            example.replacingOccurrences(of: "`0.18000,", with: "`0.18001,"),
            example.replacingOccurrences(of: "`2,`50.00", with: "`3,`50.00"),
        ]
        for text in disagreeing {
            #expect(billError { () throws(BillError) in _ = try parse(text) }?.contradictsItsTotals == true)
        }
        let damaged = [
            example.replacingOccurrences(of: Self.totalsHeader + "\r\n" + Self.totals + "\r\n", with: ""),
            example.replacingOccurrences(of: Self.totals + "\r\n", with: ""),
            String(example.prefix(Self.header.count + 2 + Self.payment.count / 2)),
        ]
        for text in damaged {
            let error = billError { () throws(BillError) in _ = try parse(text) }
            #expect(error != nil && error?.contradictsItsTotals == false, "\(String(describing: error))")
        }
    }

    @Test func invalidUTF8IsRefusedWithItsOffset() throws {
        var bytes = Array(WeChatBillParserTests.example.utf8)
        let at = Array(Self.header.utf8).count + 2 + 3
        bytes[at] = 0xFF
        var parser = WeChatBillParser(file: "w.csv", channel: "wechat", billDate: testDay, merchantID: "1900000000")
        let error = billError { () throws(BillError) in _ = try parseAll(&parser, bytes) }
        #expect(error?.line == 2 && error?.check == "encoding" && error?.reason == "not valid UTF-8 at byte 3")
        // The bad byte's field is named, as in the other channels' bills.
        #expect(error?.file == "w.csv" && error?.column == "交易时间", "\(String(describing: error))")
        // One in a later field, 商品名称 (the 21st).
        var later = Array(WeChatBillParserTests.example.utf8)
        let subject = Array("测试商品A".utf8)
        let at2 = Array(Self.header.utf8).count + 2
        let start = try #require(later.indices.first { $0 > at2 && later[$0...].starts(with: subject) })
        later[start + 1] = 0x41  // the lead byte of 测 followed by an ASCII byte
        var second = WeChatBillParser(file: "w.csv", channel: "wechat", billDate: testDay, merchantID: "1900000000")
        let error2 = billError { () throws(BillError) in _ = try parseAll(&second, later) }
        #expect(
            error2?.line == 2 && error2?.column == "商品名称" && error2?.check == "encoding",
            "\(String(describing: error2))")
    }
}
