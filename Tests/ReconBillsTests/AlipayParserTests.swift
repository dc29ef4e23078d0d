import Foundation
import ReconCore
import Testing

@testable import ReconBills

@Suite struct AlipayParserTests {
    static let start = "#-----------------------------------------业务明细列表----------------------------------------"
    static let end = "#-----------------------------------------业务明细列表结束------------------------------------"
    static let payment =
        "2026112322000000000000000001\t,R20261123000001\t,交易\t,测试商品A,2026-11-23 09:15:02,2026-11-23 09:15:07,\t,\t,\t,\t,*三(138****0000)\t,50.00,50.00,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.30,0.00,"
    static let refund =
        "2026112322000000000000000001\t,R20261123000001\t,退款\t,测试商品A,2026-11-23 09:15:02,2026-11-23 17:40:11,\t,\t,\t,\t,*三(138****0000)\t,-20.00,-20.00,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,RF20261123000001\t,0.12,0.00,"
    /// CHANNELS.md §1.3, with the two example rows.
    static let details = [
        "#支付宝业务明细查询", "#账号：[20880000000000000156]", "#起始日期：[2026年11月23日 00:00:00]   终止日期：[2026年11月24日 00:00:00]", start,
        AlipayDetailsLayout.header.joined(separator: ","), payment, refund, end,
        "#交易合计：1笔，商家实收共50.00元，商家优惠共0.00元", "#退款合计：1笔，商家实收退款共-20.00元，商家优惠退款共0.00元", "#导出时间：[2026年11月24日 06:02:17]",
    ].map { $0 + "\r\n" }.joined()
    /// CHANNELS.md §1.4.
    static let summary = [
        "#支付宝业务汇总查询", "#账号：[20880000000000000156]", "#起始日期：[2026年11月23日 00:00:00]   终止日期：[2026年11月24日 00:00:00]",
        "#-----------------------------------------业务汇总列表----------------------------------------",
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）",
        "合计,,1,1,30.00,30.00,0.00,0.00,0.00,-0.18,0.00,29.82",
        "#-----------------------------------------业务汇总列表结束------------------------------------",
        "#导出时间：[2026年11月24日 06:02:17]",
    ].map { $0 + "\r\n" }.joined()

    func parser() -> AlipayDetailsParser {
        AlipayDetailsParser(
            file: "20880000000000000156_20261123_业务明细.csv", channel: "alipay", billDate: testDay,
            accountID: "20880000000000000156")
    }

    func parse(_ text: String, chunk: Int = 1 << 20) throws -> (lines: [BillLine], parser: AlipayDetailsParser) {
        let bytes = try GBK.encode(text)
        var parser = parser()
        let lines = try parseAll(&parser, bytes, chunk: chunk)
        return (lines, parser)
    }

    func refusal(_ text: String) throws -> BillError? {
        let bytes = try GBK.encode(text)
        var parser = parser()
        return billError { () throws(BillError) in _ = try parseAll(&parser, bytes) }
    }

    @Test(arguments: [1, 7, 1 << 20])
    func theExampleRowsParseWithRefundsNegativeAndFeesInReconsSign(chunk: Int) throws {
        let (lines, parser) = try parse(AlipayParserTests.details, chunk: chunk)
        #expect(lines.count == 2)
        let payment = lines[0]
        #expect(
            payment.channelTransactionID == "2026112322000000000000000001"
                && payment.merchantOrderID == "R20261123000001")
        #expect(
            payment.kind == .payment && payment.amountFen == 5000 && payment.feeFen == 30 && payment.refundID == nil)
        #expect(payment.timeMicroseconds == 1_795_396_507_000_000 && payment.lineNumber == 6 && payment.flag == nil)
        let refund = lines[1]
        #expect(refund.kind == .refund && refund.amountFen == -2000 && refund.feeFen == -12)
        #expect(refund.refundID == "RF20261123000001" && refund.lineNumber == 7)
        #expect(refund.originalTransactionID == "2026112322000000000000000001" && payment.originalTransactionID == nil)
        #expect(refund.timeMicroseconds == 1_795_426_811_000_000)
        #expect(parser.summary.lines == 2 && parser.summary.amountFen == 3000 && parser.summary.feeFen == 18)
        #expect(parser.summary.declaredTotals?.contains("#交易合计：1笔") == true)
        let summary = try AlipaySummary.parse(try GBK.encode(AlipayParserTests.summary), file: "汇总.csv")
        #expect(summary.tradeCount == 1 && summary.refundCount == 1 && summary.orderAmountFen == 3000)
        #expect(summary.receivedFen == 3000 && summary.serviceFeeFen == -18 && summary.line == 6)
        try parser.check(against: summary)
    }

    @Test func lfLineEndingsAndTheOlderFooterWordingAreAccepted() throws {
        let text = AlipayParserTests.details.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "#交易合计：1笔，商家实收共50.00元，商家优惠共0.00元", with: "#交易合计：1笔，交易金额共50.00元，优惠金额共0.00元")
            .replacingOccurrences(
                of: "#退款合计：1笔，商家实收退款共-20.00元，商家优惠退款共0.00元", with: "#退款合计：1笔，交易退款金额共-20.00元，优惠退款金额共0.00元")
        #expect(try parse(text).lines.count == 2)
    }

    @Test func aFinishTimeOutsideTheDayIsFlagged() throws {
        let text = AlipayParserTests.details.replacingOccurrences(
            of: "2026-11-23 17:40:11", with: "2026-11-24 00:00:01")
        let (lines, parser) = try parse(text)
        #expect(lines[1].flag == "完成时间 2026-11-24 00:00:01 is outside 2026-11-23")
        #expect(parser.summary.flagged == 1)
    }

    @Test func aCommaInTheSubjectIsJoinedBackAndFlagged() throws {
        let text = AlipayParserTests.details.replacingOccurrences(of: "交易\t,测试商品A,", with: "交易\t,测试,商品A,")
        let lines = try parse(text).lines
        #expect(lines[0].amountFen == 5000 && lines[0].feeFen == 30)
        #expect(lines[0].flag?.contains("26 fields where the header has 25: a comma in 商品名称") == true)
        let remark = AlipayParserTests.details.replacingOccurrences(
            of: "-0.30,0.00,\r\n", with: "-0.30,0.00,备注,带逗号\r\n")
        #expect(try parse(remark).lines[0].flag?.contains("a comma in 备注") == true)
    }

    @Test(
        arguments: [
            (
                details.replacingOccurrences(of: "#交易合计：1笔", with: "#交易合计：2笔"), 9, "#交易合计", "footer",
                "says 2 rows, the file has 1"
            ),
            (
                details.replacingOccurrences(of: "商家实收共50.00元", with: "商家实收共50.01元"), 9, "#交易合计", "footer",
                "says 50.01, the 商家实收 column adds up to 50.00"
            ),
            (
                details.replacingOccurrences(of: "退款共-20.00元", with: "退款共-21.00元"), 10, "#退款合计", "footer",
                "the 商家实收 column adds up to -20.00"
            ),
            (
                details.replacingOccurrences(of: "#退款合计：1笔，商家实收退款共-20.00元，商家优惠退款共0.00元\r\n", with: ""), nil, "#退款合计",
                "footer", "footer is missing"
            ),
            (
                details.components(separatedBy: end)[0], nil, nil, "frame",
                "end marker 业务明细列表结束 is missing (the file may be cut)"
            ),
            (
                details.replacingOccurrences(of: ",交易\t,", with: ",转账\t,"), 6, "业务类型", "kind",
                "业务类型 转账 is neither 交易 nor 退款"
            ),
            (
                details.replacingOccurrences(of: "[20880000000000000156]", with: "[20880000000000000157]"), 2, "#账号",
                "identity", "not the configured account"
            ),
            (
                details.replacingOccurrences(of: "[2026年11月23日 00:00:00]", with: "[2026年11月22日 00:00:00]"), 3, "起始日期",
                "identity", "expected 2026年11月23日 00:00:00"
            ),
            (
                details.replacingOccurrences(of: ",-20.00,-20.00,", with: ",20.00,-20.00,"), 7, "订单金额（元）", "sign",
                "refunds are negative"
            ),
            (
                details.replacingOccurrences(of: ",50.00,50.00,", with: ",12.345,50.00,"), 6, "订单金额（元）", "amount",
                "not have exactly 2 decimal places"
            ),
            (
                details.replacingOccurrences(of: ",50.00,50.00,", with: ",50.0,50.00,"), 6, "订单金额（元）", "amount",
                "not have exactly 2 decimal places"
            ),
            (
                details.replacingOccurrences(of: "订单金额（元）", with: "订单金额(元)"), 5, "订单金额（元）", "header",
                "header column 11 is 订单金额(元)"
            ),
            (
                details.replacingOccurrences(of: "-0.30,0.00,\r\n", with: "-0.30\r\n"), 6, nil, "field count",
                "23 fields where the header has 25"
            ),
            (
                details.replacingOccurrences(of: "2026-11-23 09:15:07", with: "2026/11/23 09:15:07"), 6, "完成时间", "time",
                "not yyyy-MM-dd"
            ),
            (details + "2026112322000000000000000009\t,R9\r\n", 12, nil, "frame", "a data line after the end marker"),
            ("just text\r\n", 1, nil, "frame", "a line before the start marker"),
            // Issue 14's bad input: a non-numeric amount, a negative payment, a 0-byte file, another
            // channel's bill (WeChat Pay's, whose first line is its header).
            (
                details.replacingOccurrences(of: ",50.00,50.00,", with: ",abc,50.00,"), 6, "订单金额（元）", "amount",
                "\"abc\" is not an amount in yuan"
            ),
            (
                details.replacingOccurrences(of: ",50.00,50.00,", with: ",-50.00,50.00,"), 6, "订单金额（元）", "sign",
                "a 交易 row of -50.00"
            ),
            ("", nil, nil, "frame", "no start marker"),
            (WeChatBillParserTests.example, 1, nil, "frame", "a line before the start marker"),
        ] as [(String, Int?, String?, String, String)])
    func aBrokenBillIsRefusedNamingLineColumnAndCheck(
        text: String, line: Int?, column: String?, check: String, reason: String
    ) throws {
        let error = try refusal(text)
        #expect(error?.file == "20880000000000000156_20261123_业务明细.csv")
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.column == column, "\(String(describing: error))")
        #expect(error?.check == check, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func badGBKBytesAreRefusedNamingLineAndColumn() throws {
        var bytes = try GBK.encode(AlipayParserTests.details)
        let subject = try GBK.encode("测试商品A")
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: subject) })
        bytes[at + 1] = 0x7F  // a lead byte followed by a byte that is no GBK trail byte
        var parser = parser()
        let error = billError { () throws(BillError) in _ = try parseAll(&parser, bytes) }
        #expect(error?.line == 6 && error?.column == "商品名称" && error?.check == "encoding")
        #expect(error?.reason == "not valid GBK at byte 0")
    }

    /// Footers that disagree with the complete rows contradict the bill's totals (dead at once when
    /// staged); a cut file, missing its end marker or a footer, does not (fetched again).
    @Test func onlyFootersThatDisagreeContradictTheTotals() throws {
        let details = AlipayParserTests.details
        let disagreeing = [
            details.replacingOccurrences(of: "#交易合计：1笔", with: "#交易合计：2笔"),
            details.replacingOccurrences(of: "商家实收共50.00元", with: "商家实收共50.01元"),
            details.replacingOccurrences(of: "退款共-20.00元", with: "退款共-21.00元"),
        ]
        for text in disagreeing { #expect(try refusal(text)?.contradictsItsTotals == true) }
        let damaged = [
            details.components(separatedBy: AlipayParserTests.end)[0],
            details.replacingOccurrences(of: "#退款合计：1笔，商家实收退款共-20.00元，商家优惠退款共0.00元\r\n", with: ""),
            details.replacingOccurrences(of: ",50.00,50.00,", with: ",12.345,50.00,"),
        ]
        for text in damaged {
            let error = try refusal(text)
            #expect(error != nil && error?.contradictsItsTotals == false, "\(String(describing: error))")
        }
    }

    @Test func theSummaryMustAgreeWithTheDetails() throws {
        let (_, parser) = try parse(AlipayParserTests.details)
        let wrongFee = try AlipaySummary.parse(
            try GBK.encode(AlipayParserTests.summary.replacingOccurrences(of: ",-0.18,", with: ",-0.19,")),
            file: "汇总.csv")
        let error = billError { () throws(BillError) in try parser.check(against: wrongFee) }
        #expect(error?.file == "汇总.csv" && error?.line == 6 && error?.column == "服务费（元）" && error?.check == "summary")
        #expect(error?.reason.contains("服务费（元） is -0.19") == true)
        #expect(error?.contradictsItsTotals == true)
        let wrongCount = try AlipaySummary.parse(
            try GBK.encode(AlipayParserTests.summary.replacingOccurrences(of: "合计,,1,1,", with: "合计,,2,1,")),
            file: "汇总.csv")
        let countError = billError { () throws(BillError) in try parser.check(against: wrongCount) }
        #expect(countError?.column == "交易订单总笔数" && countError?.contradictsItsTotals == true)
        let otherDay = try AlipaySummary.parse(
            try GBK.encode(
                AlipayParserTests.summary.replacingOccurrences(of: "终止日期：[2026年11月24日", with: "终止日期：[2026年11月25日")),
            file: "汇总.csv")
        let dayError = billError { () throws(BillError) in try parser.check(against: otherDay) }
        #expect(dayError?.line == 3 && dayError?.column == "终止日期" && dayError?.check == "identity")
        #expect(dayError?.contradictsItsTotals == false)
        let cut = try GBK.encode(
            AlipayParserTests.summary.components(separatedBy: "#-----------------------------------------业务汇总列表结束")[0])
        let error2 = billError { () throws(BillError) in _ = try AlipaySummary.parse(cut, file: "汇总.csv") }
        #expect(error2?.reason == "the end marker 业务汇总列表结束 is missing (the file may be cut)")
    }

    /// 商家实收 of a payment at Int64's limit and a refund's add up past it, which trapped in
    /// `check(against:)` (Fuzz/corpus/alipay/regression-received-past-int64).
    @Test func sumsPastInt64AreRefusedAsContradictingTheSummary() throws {
        let details = AlipayParserTests.details
            .replacingOccurrences(of: ",50.00,50.00,", with: ",92233720368547758.07,92233720368547758.07,")
            .replacingOccurrences(of: ",-20.00,-20.00,", with: ",-0.01,0.01,")
            .replacingOccurrences(of: "商家实收共50.00元", with: "商家实收共92233720368547758.07元")
            .replacingOccurrences(of: "商家实收退款共-20.00元", with: "商家实收退款共0.01元")
        let (_, parser) = try parse(details)
        let summary = try AlipaySummary.parse(
            try GBK.encode(
                AlipayParserTests.summary.replacingOccurrences(of: ",30.00,30.00,", with: ",92233720368547758.06,1.00,")
            ),
            file: "汇总.csv")
        let error = billError { () throws(BillError) in try parser.check(against: summary) }
        #expect(error?.column == "商家实收（元）" && error?.check == "summary" && error?.contradictsItsTotals == true)
        #expect(error?.reason.contains("adds up beyond ±92233720368547758.07") == true)
    }
}
