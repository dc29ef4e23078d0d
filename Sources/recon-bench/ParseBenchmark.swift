import ArgumentParser
import Foundation
import ReconBillJobs
import ReconBills
import ReconChannels
import ReconCore
import ReconFixtures
import ReconMatching
import ReconPostgres

/// The parsers alone, on a generated bill held in memory: lines/s per format, no I/O. For
/// profiling (`perf record .build/release/recon-bench parse --format alipay`) and for telling
/// parse time apart from transfer and load time.
struct ParseBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "parse", abstract: "Bill parsers alone, in memory.")

    @Option(help: "Lines in the bill.") var lines = 200_000
    @Option(help: "Formats, comma-separated: wechatpay, alipay, unionpay, bank.") var formats =
        "wechatpay,alipay,unionpay,bank"
    @Flag(help: "Also encode every line as a COPY row, as the staging thread does.") var encode = false

    func run() async throws {
        guard let day = LocalDay("2026-11-23") else { return }
        for format in formats.split(separator: ",").map(String.init) {
            var bytes: [UInt8] = []
            let sink: ([UInt8]) throws -> Void = { bytes.append(contentsOf: $0) }
            let bill = SyntheticBill.generate(day: day, count: lines, seed: 42)
            var parser: any BillParser
            switch format {
            case "wechatpay":
                var writer = WeChatBillWriter(merchantID: "1900000001", sink: sink)
                for transaction in bill { try writer.append(transaction) }
                try writer.finish()
                parser = WeChatBillParser(file: "bench", channel: "bench", billDate: day, merchantID: "1900000001")
            case "alipay":
                var writer = try AlipayDetailsWriter(accountID: "20880000000000420156", day: day, sink: sink)
                for transaction in bill { try writer.append(transaction) }
                try writer.finish()
                parser = AlipayDetailsParser(
                    file: "bench", channel: "bench", billDate: day, accountID: "20880000000000420156")
            case "unionpay":
                var writer = try UnionPayZMWriter(merchantID: "802310048993424", sink: sink)
                for transaction in bill { try writer.append(transaction) }
                try writer.finish()
                parser = UnionPayZMParser(file: "bench", channel: "bench", billDate: day, merchantID: "802310048993424")
            default:
                var writer = BankCSVWriter(sink: sink)
                for transaction in bill { try writer.append(transaction) }
                try writer.finish()
                parser = BankCSVParser(file: "bench", channel: "bench", billDate: day)
            }
            var count = 0
            var encoder = BillLineEncoder<PGBinaryCopyRow>(keyRule: .sharedTransactionID)
            let encode = encode
            let start = ContinuousClock.now
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let end = min(raw.count, offset + (1 << 20))
                    try parser.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { line in
                        count += 1
                        if encode { encoder.encode(line) }
                    }
                    offset = end
                }
            }
            try parser.finish { _ in count += 1 }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                String(
                    format: "%@ %d lines, %.1f MB: %.2f s, %.0f lines/s, %.2f µs/line", format as NSString, count,
                    Double(bytes.count) / 1e6, seconds, Double(count) / seconds, seconds * 1e6 / Double(max(count, 1))))
        }
    }
}
