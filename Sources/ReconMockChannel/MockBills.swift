import Foundation
import ReconCore
import ReconFixtures

/// Generates the bill of a merchant and day in one channel's format, from the same synthetic
/// transactions (payments, refunds of earlier payments, fees, Chinese subjects), streamed to a
/// file; deterministic per merchant and day, so a rerun serves the same bytes.
enum MockBills {
    enum Format: Sendable {
        case bank
        case wechat(merchantID: String)
        case alipayDetails(accountID: String)
        case alipaySummary(accountID: String)
        case unionpay(merchantID: String)
    }

    static func write(_ format: Format, to path: String, merchant: String, day: LocalDay, lines: Int) throws
        -> MockBillStore.Truth
    {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw CocoaError(.fileWriteUnknown)
        }
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        let sink: ([UInt8]) throws -> Void = { bytes in
            buffer.append(contentsOf: bytes)
            if buffer.count >= 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        let bill = SyntheticBill.generate(day: day, count: lines, seed: seed(merchant, day))
        switch format {
        case .bank:
            var writer = BankCSVWriter(sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        case .wechat(let merchantID):
            var writer = WeChatBillWriter(merchantID: merchantID, sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        case .alipayDetails(let accountID):
            var writer = try AlipayDetailsWriter(accountID: accountID, day: day, sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        case .alipaySummary(let accountID):
            var writer = try AlipaySummaryWriter(accountID: accountID, day: day, sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        case .unionpay(let merchantID):
            var writer = try UnionPayZMWriter(merchantID: merchantID, sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        }
        try handle.write(contentsOf: buffer)
        var truth = SyntheticTruth()
        for transaction in bill { truth.add(transaction) }
        return MockBillStore.Truth(
            lines: truth.count, payments: truth.payments, refunds: truth.refunds, amountFen: truth.amountFen,
            feeFen: truth.feeFen, feeUnits: truth.feeUnits)
    }

    /// A seed from the merchant and the day (FNV-1a), stable across runs and machines.
    static func seed(_ merchant: String, _ day: LocalDay) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (merchant + day.description).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
