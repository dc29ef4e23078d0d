import Foundation
import ReconCalendar
import ReconCore
import Testing

@testable import ReconBills

@Suite struct UnionPayZMParserTests {
    static let merchant = "777290058110048"
    /// CHANNELS.md §3.3's first 193 bytes (the rest of its 200 are spaces): a 50.00 payment, fee 0.30.
    static let example =
        "S22 00000000000 00000000000 000123 1123091507 621700******0000    000000005000         512311230915070001234    R20261123000001                                       D000000000030 C000000005000"

    /// A 607-byte record: `base` padded with spaces, then `fields` (1-based) written over it.
    static func record(_ base: String = "", _ fields: [Int: [UInt8]]) -> [UInt8] {
        var bytes = Array(base.utf8) + [UInt8](repeating: 32, count: UnionPayZMLayout.recordLength - base.utf8.count)
        for (number, value) in fields {
            let range = UnionPayZMLayout.range(number)
            let padded = value + [UInt8](repeating: 32, count: max(0, range.count - value.count))
            bytes.replaceSubrange(range, with: padded.prefix(range.count))
        }
        return bytes
    }

    static func paymentFields(merchant: String = merchant) -> [Int: [UInt8]] {
        [
            20: Array("01".utf8), 21: Array("01".utf8), 22: Array("000201".utf8), 28: Array(merchant.utf8),
            33: Array("C000000004970".utf8),
        ]
    }

    static var payment: [UInt8] { record(example, paymentFields()) }

    static func refund(type: String = "04", original: String = "512311230915070001234") -> [UInt8] {
        record(
            "",
            [
                1: Array("S22".utf8), 5: Array("1123174011".utf8), 7: Array("000000002000".utf8),
                10: Array("612311231740110005678".utf8), 12: Array("RF20261123000001".utf8),
                16: Array("C000000000012".utf8), 17: Array("D000000002000".utf8), 20: Array(type.utf8),
                21: Array("00".utf8), 22: Array("000201".utf8), 27: Array(original.utf8), 28: Array(merchant.utf8),
                33: Array("D000000001988".utf8), 35: [0xB2, 0xE2, 0xCA, 0xD4],
            ])
    }

    func parse(_ bytes: [UInt8], day: LocalDay = testDay, chunk: Int = 1 << 20) throws(BillError) -> (
        lines: [BillLine], summary: BillSummary
    ) {
        var parser = UnionPayZMParser(
            file: "INN26112401ZM_777290058110048", channel: "unionpay", billDate: day, merchantID: Self.merchant)
        let lines = try parseAll(&parser, bytes, chunk: chunk)
        return (lines, parser.summary)
    }

    @Test func theLayoutAddsUpTo607BytesWithTheDocumentedOffsets() {
        #expect(UnionPayZMLayout.lengths.count == 42 && UnionPayZMLayout.recordLength == 607)
        #expect(
            [5, 7, 10, 12, 16, 17, 20, 27, 28, 33, 41, 42].map { UnionPayZMLayout.offsets[$0 - 1] }
                == [35, 66, 87, 112, 166, 180, 215, 271, 293, 374, 476, 509])
        #expect(UnionPayZMParserTests.example.utf8.count == 193)
    }

    @Test(arguments: [1, 7, 1 << 20])
    func theExamplePaddedTo607ParsesAsAPaymentAndARefund(chunk: Int) throws {
        let bytes = Self.payment + [13, 10] + Self.refund() + [13, 10]
        let (lines, summary) = try parse(bytes, chunk: chunk)
        #expect(lines.count == 2)
        let payment = lines[0]
        #expect(payment.channelTransactionID == "512311230915070001234" && payment.merchantOrderID == "R20261123000001")
        #expect(
            payment.kind == .payment && payment.amountFen == 5000 && payment.feeFen == 30 && payment.refundID == nil)
        #expect(payment.timeMicroseconds == 1_795_396_507_000_000 && payment.lineNumber == 1 && payment.flag == nil)
        let refund = lines[1]
        #expect(refund.kind == .refund && refund.amountFen == -2000 && refund.feeFen == -12)
        // The refund's own queryId is its key; origQryId names the payment.
        #expect(refund.channelTransactionID == "612311231740110005678" && refund.refundID == "RF20261123000001")
        #expect(refund.originalTransactionID == "512311230915070001234" && payment.originalTransactionID == nil)
        #expect(refund.timeMicroseconds == 1_795_426_811_000_000 && refund.lineNumber == 2)
        #expect(summary == BillSummary(lines: 2, payments: 1, refunds: 1, amountFen: 3000, feeFen: 18))
    }

    @Test func anEmptyFileIsAnEmptyDayAndTheLastRecordNeedsNoLineEnd() throws {
        #expect(try parse([]).lines.isEmpty)
        #expect(try parse(Self.payment + [10] + Self.refund()).lines.count == 2)
    }

    @Test func aVoidIsARefundAndOtherTypesAreStagedAsWrittenWithAFlag() throws {
        #expect(try parse(Self.refund(type: "31")).lines.first?.amountFen == -2000)
        let preAuth = try parse(Self.refund(type: "02")).lines
        #expect(preAuth.first?.kind == .payment && preAuth.first?.amountFen == 2000)
        #expect(preAuth.first?.flag == "UnionPay txnType 02 (pre-auth) is not a payment or refund")
    }

    @Test func theDayStartsAt2300TheDayBefore() throws {
        func flag(_ time: String, day: LocalDay = testDay) throws -> String? {
            var fields = Self.paymentFields()
            fields[5] = Array(time.utf8)
            return try parse(Self.record(Self.example, fields), day: day).lines.first?.flag
        }
        #expect(try flag("1122230001") == nil)
        #expect(try flag("1122225959")?.contains("is outside 2026-11-22 23:00:00 – 2026-11-24 00:00:00") == true)
        #expect(
            try flag("1124000001")
                == "交易传输时间 1124000001 (2026-11-24 00:00:01) is outside 2026-11-22 23:00:00 – 2026-11-24 00:00:00")
        // A December line in a January bill belongs to the year before.
        let newYear = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2027, month: 1, day: 1))
        #expect(try flag("1231233000", day: newYear) == nil)
    }

    @Test(
        arguments: [
            (Array(payment.dropLast()), 1, nil, "record length", "606 bytes where every record has 607"),
            (payment + [32, 10], 1, nil, "record length", "608 bytes where every record has 607"),
            (payment + payment, 1, nil, "record length", "the record is longer than 607 bytes"),
            (
                record(example.replacingOccurrences(of: "000000005000", with: "00000000500A"), paymentFields()), 1,
                "交易金额", "digits", "\"00000000500A\" is not 12 digits"
            ),
            (
                record(example.replacingOccurrences(of: "D000000000030", with: "X000000000030"), paymentFields()), 1,
                "商户手续费", "digits", "is not D or C and 12 digits"
            ),
            (
                record(example.replacingOccurrences(of: "1123091507", with: "1131091507"), paymentFields()), 1,
                "交易传输时间", "time", "not a valid MMDDhhmmss"
            ),
            (
                record(example, paymentFields(merchant: "777290058110049")), 1, "商户代码", "identity",
                "merId 777290058110049 is not the configured 777290058110048"
            ),
            (payment + [10] + refund(original: ""), 2, "原交易查询流水号", "kind", "refund without origQryId"),
            // Issue 14's bad input: a negative amount (amounts are unsigned digits here), a record
            // cut short before the next, another channel's bill (a bank CSV).
            (
                record(example.replacingOccurrences(of: "000000005000", with: "-00000005000"), paymentFields()), 1,
                "交易金额", "digits", "\"-00000005000\" is not 12 digits"
            ),
            (
                Array(payment.prefix(300)) + [13, 10] + refund(), 1, nil, "record length",
                "300 bytes where every record"
            ),
            (Array(BankCSVParserTests.good.utf8), 1, nil, "record length", "where every record has 607"),
            (
                payment + [10] + record(example, paymentFields().merging([35: [0x41, 0xB2]]) { $1 }), 2, "商户自定义域",
                "encoding", "field 35: cut off inside a character at byte 1"
            ),
        ] as [([UInt8], Int?, String?, String, String)])
    func aBrokenRecordIsRefusedNamingLineColumnAndCheck(
        bytes: [UInt8], line: Int?, column: String?, check: String, reason: String
    ) {
        let error = billError { () throws(BillError) in _ = try parse(bytes) }
        #expect(error?.file == "INN26112401ZM_777290058110048")
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.column == column, "\(String(describing: error))")
        #expect(error?.check == check, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    /// GBK may fill a field to its last byte, but a character may not run on into the next field,
    /// even when the byte after the field would make a valid pair.
    @Test func aGBKCharacterMayEndAFieldButNotStraddleTwo() throws {
        let end = UnionPayZMLayout.range(35).upperBound
        var filled = Self.payment
        filled.replaceSubrange((end - 2)..<end, with: [0xB2, 0xE2])
        #expect(try parse(filled).lines.count == 1)

        var straddling = Self.payment
        straddling[end - 1] = 0xB2
        straddling[end] = 0xE2  // the separator byte after field 35
        let error = billError { () throws(BillError) in _ = try parse(straddling) }
        #expect(error?.column == "商户自定义域" && error?.check == "encoding", "\(String(describing: error))")
        #expect(error?.reason.contains("field 35: cut off inside a character") == true, "\(String(describing: error))")
    }
}
