import Foundation
import ReconCore
import Testing

@testable import ReconBills

@Suite struct BankCSVParserTests {
    static let header = "txn_time,channel_txn_id,merchant_order_id,refund_id,kind,amount,fee,currency,status\r\n"
    static let good =
        header
        + "2026-11-23 09:15:07,B000000001,R20261123000001,,payment,50.00,0.25,CNY,SUCCESS\r\n"
        + "2026-11-23 17:40:11,B000000002,R20261123000001,RF20261123000001,refund,-20.00,-0.10,CNY,SUCCESS\r\n"
        + "#TOTAL,2,30.00,0.15\r\n"

    func parse(_ text: String, chunk: Int = 1 << 20) throws(BillError) -> [BillLine] {
        guard let day = LocalDay("2026-11-23") else { return [] }
        var parser = BankCSVParser(file: "bank/20261123.csv", channel: "icbc", billDate: day)
        var lines: [BillLine] = []
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            try parser.feed(bytes[start..<min(start + chunk, bytes.count)]) { lines.append($0) }
        }
        try parser.finish { lines.append($0) }
        return lines
    }

    @Test(arguments: [3, 1 << 20])
    func theExampleBillParsesToSignedFenAtBeijingTime(chunk: Int) throws {
        let lines = try parse(BankCSVParserTests.good, chunk: chunk)
        #expect(lines.count == 2)
        let payment = lines[0]
        #expect(payment.kind == .payment && payment.amountFen == 5000 && payment.feeFen == 25)
        #expect(payment.channelTransactionID == "B000000001" && payment.refundID == nil && payment.lineNumber == 2)
        // 09:15:07 in Beijing is 01:15:07 UTC.
        #expect(payment.timeMicroseconds == 1_795_396_507_000_000)
        let refund = lines[1]
        #expect(refund.kind == .refund && refund.amountFen == -2000 && refund.feeFen == -10)
        #expect(refund.refundID == "RF20261123000001" && refund.lineNumber == 3)
    }

    @Test func anEmptyDayIsAHeaderAndAZeroTrailer() throws {
        #expect(try parse(BankCSVParserTests.header + "#TOTAL,0,0.00,0.00\n").isEmpty)
    }

    /// A trailer that disagrees with the complete lines contradicts the bill's totals (dead at once
    /// when staged); a cut file, without its trailer or ending mid-line, does not (fetched again).
    @Test func onlyATrailerThatDisagreesContradictsTheTotals() {
        let good = BankCSVParserTests.good
        let disagreeing = [
            good.replacingOccurrences(of: "#TOTAL,2,", with: "#TOTAL,3,"),
            good.replacingOccurrences(of: "30.00,0.15", with: "30.01,0.15"),
            good.replacingOccurrences(of: "0.15\r\n", with: "0.16\r\n"),
        ]
        for text in disagreeing {
            #expect((#expect(throws: BillError.self) { try parse(text) })?.contradictsItsTotals == true)
        }
        let damaged = [
            good.replacingOccurrences(of: "#TOTAL,2,30.00,0.15\r\n", with: ""),
            String(good.prefix(good.count / 2)),
            Self.header + "2026-11-23 09:15:07,\"B1",
        ]
        for text in damaged {
            #expect((#expect(throws: BillError.self) { try parse(text) })?.contradictsItsTotals == false)
        }
    }

    /// A byte that is not UTF-8 (the default profile's encoding) names its line and column.
    @Test func invalidUTF8IsRefusedNamingLineAndColumn() {
        var bytes = Array(BankCSVParserTests.good.utf8)
        let at = Array(Self.header.utf8).count + "2026-11-23 09:15:07,B0".utf8.count
        bytes[at] = 0xC3  // a lead byte followed by an ASCII digit
        guard let day = LocalDay("2026-11-23") else { return }
        var parser = BankCSVParser(file: "bank/20261123.csv", channel: "icbc", billDate: day)
        let error = billError { () throws(BillError) in _ = try parseAll(&parser, bytes) }
        #expect(error?.file == "bank/20261123.csv" && error?.line == 2, "\(String(describing: error))")
        #expect(error?.column == "channel_txn_id" && error?.check == "encoding", "\(String(describing: error))")
    }

    @Test(
        arguments: [
            (good.replacingOccurrences(of: "#TOTAL,2,30.00,0.15\r\n", with: ""), nil as Int?, "trailer", "missing"),
            (
                good.replacingOccurrences(of: "#TOTAL,2,", with: "#TOTAL,3,"), 4, "trailer",
                "says 3 lines, the file has 2"
            ),
            (good.replacingOccurrences(of: "30.00,0.15", with: "30.01,0.15"), 4, "trailer", "lines add up to 30.00"),
            (good.replacingOccurrences(of: "0.15\r\n", with: "0.16\r\n"), 4, "trailer", "fee is 0.16"),
            (
                good.replacingOccurrences(of: "50.00,0.25", with: "50.005,0.25"), 2, "amount",
                "more than 2 decimal places"
            ),
            (good.replacingOccurrences(of: "50.00,0.25", with: "1e3,0.25"), 2, "amount", "exponents"),
            (good.replacingOccurrences(of: "refund,-20.00", with: "refund,20.00"), 3, "sign", "wrong sign"),
            (good.replacingOccurrences(of: ",payment,", with: ",purchase,"), 2, "kind", "neither payment nor refund"),
            (good.replacingOccurrences(of: "09:15:07", with: "9:15"), 2, "time", "not yyyy-MM-dd HH:mm:ss"),
            (good.replacingOccurrences(of: "CNY,SUCCESS\r\n2026", with: "USD,SUCCESS\r\n2026"), 2, "currency", "USD"),
            (
                good.replacingOccurrences(of: ",SUCCESS\r\n2026", with: ",SUCCESS,extra\r\n2026"), 2, "field count",
                "10 fields"
            ),
            (good.replacingOccurrences(of: "channel_txn_id", with: "txn"), 1, "header", "no channel_txn_id column"),
            (good + "2026-11-23 09:15:07,B9,,,payment,1.00,0.00,CNY,SUCCESS\r\n", 5, "trailer", "follows the #TOTAL"),
            (
                good.replacingOccurrences(of: "B000000001,", with: "B0\"1,"), 2, "CSV syntax",
                "a quote inside an unquoted field"
            ),
            (header + "2026-11-23 09:15:07,\"B1", 2, "CSV syntax", "never closed"),
            // Issue 14's bad input: a non-numeric amount, a negative payment, a missing field, a
            // 0-byte file, another channel's bill (WeChat Pay's).
            (good.replacingOccurrences(of: "50.00,0.25", with: "abc,0.25"), 2, "amount", "\"abc\" is not an amount"),
            (good.replacingOccurrences(of: "payment,50.00", with: "payment,-50.00"), 2, "sign", "wrong sign"),
            (
                good.replacingOccurrences(of: ",CNY,SUCCESS\r\n2026", with: ",CNY\r\n2026"), 2, "field count",
                "8 fields"
            ),
            ("", nil, "header", "no header line"),
            (WeChatBillParserTests.example, 1, "header", "no channel_txn_id column"),
        ] as [(String, Int?, String, String)])
    func aBrokenBillIsRefusedNamingFileLineAndCheck(text: String, line: Int?, check: String, reason: String) {
        let error = #expect(throws: BillError.self) { try parse(text) }
        #expect(error?.file == "bank/20261123.csv")
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.check == check, "\(String(describing: error))")
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }
}
