import ReconCore
import Testing

@testable import ReconBills
@testable import ReconFixtures

@Suite struct BillStreamingTests {
    /// The writer's chunks go straight into the parser: neither side ever holds the whole bill.
    @Test func aLargeBillStreamsFromWriterToParser() throws {
        let bill = SyntheticBill.generate(day: testDay, count: 20_000, seed: 99)
        final class Pipe {
            var parser = WeChatBillParser(file: "w.csv", channel: "wechat", billDate: testDay, merchantID: "1900000000")
            var lines: Int64 = 0
            var largestChunk = 0
            func take(_ chunk: [UInt8]) throws {
                largestChunk = max(largestChunk, chunk.count)
                try parser.feed(chunk) { _ in self.lines += 1 }
            }
        }
        let pipe = Pipe()
        var writer = WeChatBillWriter(merchantID: "1900000000", sink: pipe.take)
        var truth = SyntheticTruth()
        for transaction in bill {
            try writer.append(transaction)
            truth.add(transaction)
        }
        try writer.finish()
        try pipe.parser.finish { _ in pipe.lines += 1 }
        #expect(pipe.lines == truth.count)
        #expect(pipe.parser.summary.amountFen == truth.amountFen && pipe.parser.summary.feeFen == truth.feeFen)
        #expect(pipe.largestChunk < 70_000)
    }
}
