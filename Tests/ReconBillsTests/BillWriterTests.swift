import Foundation
import ReconCore
import Testing

@testable import ReconBills
@testable import ReconFixtures

@Suite struct BillWriterTests {
    /// Beijing wall time on the test day as µs since 1970.
    static func at(_ hour: Int64, _ minute: Int64, _ second: Int64) -> Int64 {
        (Int64(testDay.dayNumber) * 86_400 - 8 * 3600 + hour * 3600 + minute * 60 + second) * 1_000_000
    }

    /// The two transactions of the CHANNELS.md examples.
    static func examplePair(channelID: String, refundChannelID: String) -> [SyntheticTransaction] {
        let payment = SyntheticTransaction(
            sequence: 123, kind: .payment, channelTransactionID: channelID, merchantOrderID: "R20261123000001",
            refundID: nil, channelRefundID: nil, amountFen: 5000, feeUnits: 30_000, timeMicroseconds: at(9, 15, 7),
            createdMicroseconds: at(9, 15, 2), subject: "测试商品A", payerNumber: 1)
        var refund = payment
        refund.kind = .refund
        refund.refundID = "RF20261123000001"
        refund.channelRefundID = refundChannelID
        refund.amountFen = -2000
        refund.feeUnits = -12_000
        refund.timeMicroseconds = at(17, 40, 11)
        return [payment, refund]
    }

    /// Everything a writer hands its sink.
    final class Collected {
        var bytes: [UInt8] = []
        var calls = 0
        func sink(_ chunk: [UInt8]) {
            bytes += chunk
            calls += 1
        }
    }

    @Test func theWeChatWriterReproducesTheExampleAndItsSHA1() throws {
        let collected = Collected()
        var writer = WeChatBillWriter(merchantID: "1900000000", sink: collected.sink)
        for transaction in Self.examplePair(
            channelID: "4200000000202611230000000001", refundChannelID: "50300000002026112300000000001")
        {
            try writer.append(transaction)
        }
        try writer.finish()
        #expect(String(decoding: collected.bytes, as: UTF8.self) == WeChatBillParserTests.example)
        #expect(SHA1.hex(collected.bytes) == "72c716447d9f6838ba77360c950ad104c5d8a710")
        #expect(SHA1.hex(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func theAlipayWritersReproduceTheExampleFiles() throws {
        let details = Collected()
        let summary = Collected()
        var detailsWriter = try AlipayDetailsWriter(accountID: "20880000000000000156", day: testDay, sink: details.sink)
        var summaryWriter = try AlipaySummaryWriter(accountID: "20880000000000000156", day: testDay, sink: summary.sink)
        for transaction in Self.examplePair(channelID: "2026112322000000000000000001", refundChannelID: "") {
            try detailsWriter.append(transaction)
            try summaryWriter.append(transaction)
        }
        try detailsWriter.finish()
        try summaryWriter.finish()
        #expect(details.bytes == (try GBK.encode(AlipayParserTests.details)))
        #expect(summary.bytes == (try GBK.encode(AlipayParserTests.summary)))
    }

    @Test func theUnionPayWriterReproducesTheExampleRecord() throws {
        let collected = Collected()
        var writer = try UnionPayZMWriter(merchantID: UnionPayZMParserTests.merchant, sink: collected.sink)
        let pair = Self.examplePair(channelID: "512311230915070001234", refundChannelID: "612311231740110005678")
        for transaction in pair { try writer.append(transaction) }
        try writer.finish()
        #expect(collected.bytes.count == 2 * 609)
        #expect(Array(collected.bytes.prefix(193)) == Array(UnionPayZMParserTests.example.utf8))
        #expect(Array(collected.bytes[193..<200]) == Array("       ".utf8))
        #expect(Array(collected.bytes[607..<609]) == [13, 10])
        // The subject is GBK in 商户自定义域, cut at a character boundary.
        #expect(Array(collected.bytes[UnionPayZMLayout.range(35)].prefix(9)) == TextCodingTests.subjectGBK)
        #expect(UnionPayZMWriter.cut(try GBK.encode("测试商品A测试商品A测试商品A测试商品A"), to: 32).count == 31)
    }

    @Test func theBankWriterReproducesTheRecon1Example() throws {
        let collected = Collected()
        var writer = BankCSVWriter(sink: collected.sink)
        var pair = Self.examplePair(channelID: "B000000001", refundChannelID: "B000000002")
        pair[0].feeUnits = 25_000
        pair[1].feeUnits = -10_000
        for transaction in pair { try writer.append(transaction) }
        try writer.finish()
        #expect(String(decoding: collected.bytes, as: UTF8.self) == BankCSVParserTests.good)
        #expect(BankCSVWriter.quoted("a,\"b\"") == "\"a,\"\"b\"\"\"")
    }

    @Test func theGeneratorIsDeterministicAndRefundsOnlyWhatWasPaid() {
        let bill = SyntheticBill.generate(day: testDay, count: 3000, seed: 7)
        let transactions = Array(bill)
        #expect(transactions == Array(SyntheticBill.generate(day: testDay, count: 3000, seed: 7)))
        #expect(transactions != Array(SyntheticBill.generate(day: testDay, count: 3000, seed: 8)))
        #expect(transactions.count == 3000)
        let window = DayWindow(day: testDay, offsetSeconds: 8 * 3600)
        #expect(transactions.allSatisfy { window.flag($0.timeMicroseconds, "") == nil })
        #expect(transactions.map(\.timeMicroseconds) == transactions.map(\.timeMicroseconds).sorted())
        var left: [String: Int64] = [:]
        for transaction in transactions {
            if transaction.kind == .payment {
                left[transaction.channelTransactionID] = transaction.amountFen
            } else {
                left[transaction.channelTransactionID, default: 0] += transaction.amountFen
                #expect(left[transaction.channelTransactionID, default: -1] >= 0)
            }
        }
        let truth = bill.truth
        #expect(truth.refunds > 300 && truth.payments > 2000 && truth.feeRoundingUnits != 0)
        #expect(Set(transactions.map(\.subject)).count == SyntheticBill.subjects.count)
    }
}

@Suite struct BillRoundTripTests {
    static let bill = SyntheticBill.generate(day: testDay, count: 1200, seed: 20_261_123)
    static let small = SyntheticBill.generate(day: testDay, count: 60, seed: 5)

    /// Writes the bill with `write`, parses it back in `chunk`-byte pieces, and checks every line
    /// and the totals against what was generated.
    func roundTrip<Parser: BillParser>(
        _ bill: SyntheticBill, chunk: Int, parser: Parser,
        write: (SyntheticBill, @escaping ([UInt8]) -> Void) throws -> Void,
        expect: (SyntheticTransaction, BillLine) -> Bool
    ) throws -> (parser: Parser, calls: Int) {
        let collected = BillWriterTests.Collected()
        try write(bill, collected.sink)
        var parser = parser
        let lines = try parseAll(&parser, collected.bytes, chunk: chunk)
        let transactions = Array(bill)
        #expect(lines.count == transactions.count)
        for (transaction, line) in zip(transactions, lines) {
            #expect(line.amountFen == transaction.amountFen && line.feeFen == transaction.feeFen)
            #expect(
                line.kind == transaction.kind
                    && line.timeMicroseconds == transaction.timeMicroseconds / 1_000_000 * 1_000_000)
            #expect(line.flag == nil)
            #expect(expect(transaction, line), "\(transaction) → \(line)")
        }
        let truth = bill.truth
        let summary = parser.summary
        #expect(summary.lines == truth.count && summary.payments == truth.payments && summary.refunds == truth.refunds)
        #expect(summary.amountFen == truth.amountFen && summary.feeFen == truth.feeFen && summary.flagged == 0)
        return (parser, collected.calls)
    }

    @Test(arguments: [(bill, 4096), (bill, 1 << 20), (small, 1)])
    func weChat(bill: SyntheticBill, chunk: Int) throws {
        let parser = WeChatBillParser(file: "w.csv", channel: "wechat", billDate: testDay, merchantID: "1900000000")
        let (finished, calls) = try roundTrip(bill, chunk: chunk, parser: parser) { bill, sink in
            var writer = WeChatBillWriter(merchantID: "1900000000", sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        } expect: { transaction, line in
            line.channelTransactionID == transaction.channelTransactionID
                && line.merchantOrderID == transaction.merchantOrderID
                && line.refundID == transaction.refundID
        }
        #expect(finished.summary.feeRoundingUnits == bill.truth.feeRoundingUnits)
        #expect(bill.count < 1000 || calls > 1)  // streamed to the sink in chunks
    }

    @Test(arguments: [(bill, 4096), (small, 1)])
    func alipay(bill: SyntheticBill, chunk: Int) throws {
        let parser = AlipayDetailsParser(
            file: "a.csv", channel: "alipay", billDate: testDay, accountID: "20880000000000000156")
        let summaryFile = BillWriterTests.Collected()
        var summaryWriter = try AlipaySummaryWriter(
            accountID: "20880000000000000156", day: testDay, sink: summaryFile.sink)
        let (details, _) = try roundTrip(bill, chunk: chunk, parser: parser) { bill, sink in
            var writer = try AlipayDetailsWriter(accountID: "20880000000000000156", day: testDay, sink: sink)
            for transaction in bill {
                try writer.append(transaction)
                try summaryWriter.append(transaction)
            }
            try writer.finish()
            try summaryWriter.finish()
        } expect: { transaction, line in
            line.channelTransactionID == transaction.channelTransactionID
                && line.merchantOrderID == transaction.merchantOrderID
                && line.refundID == transaction.refundID
        }
        try details.check(against: try AlipaySummary.parse(summaryFile.bytes, file: "汇总.csv"))
    }

    @Test(arguments: [(bill, 4096), (small, 1)])
    func unionPay(bill: SyntheticBill, chunk: Int) throws {
        let parser = UnionPayZMParser(file: "ZM", channel: "unionpay", billDate: testDay, merchantID: "777290058110048")
        _ = try roundTrip(bill, chunk: chunk, parser: parser) { bill, sink in
            var writer = try UnionPayZMWriter(merchantID: "777290058110048", sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        } expect: { transaction, line in
            // A refund is staged under its own queryId, with the payment's as the original.
            transaction.kind == .payment
                ? line.channelTransactionID == transaction.channelTransactionID
                    && line.merchantOrderID == transaction.merchantOrderID && line.originalTransactionID == nil
                : line.channelTransactionID == transaction.channelRefundID
                    && line.originalTransactionID == transaction.channelTransactionID
                    && line.refundID == transaction.refundID
        }
    }

    @Test(arguments: [(bill, 4096), (small, 1)])
    func bankCSV(bill: SyntheticBill, chunk: Int) throws {
        let parser = BankCSVParser(file: "b.csv", channel: "bank", billDate: testDay)
        _ = try roundTrip(bill, chunk: chunk, parser: parser) { bill, sink in
            var writer = BankCSVWriter(sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        } expect: { transaction, line in
            line.merchantOrderID == transaction.merchantOrderID && line.refundID == transaction.refundID
        }
    }
}
