import Foundation
import ReconCore

/// Generates a `recon-bank-v1` bill (CHANNELS.md §4) for a merchant and day: payments and
/// refunds of earlier payments, fees, and merchant order ids; deterministic per merchant and day.
enum MockBankBill {
    static func write(to path: String, merchant: String, day: LocalDay, lines: Int) throws -> MockBillStore.Truth {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown)
        }
        defer { try? handle.close() }
        var buffer = "txn_time,channel_txn_id,merchant_order_id,refund_id,kind,amount,fee,currency,status\n"
        var truth = MockBillStore.Truth(lines: 0, payments: 0, refunds: 0, amountFen: 0, feeFen: 0)
        var random = MockRandom(seed: MockRandom.seed(merchant, day))
        let compact = MockBillStore.compact(day)
        var payments: [(id: String, order: String, amount: Int64)] = []
        for index in 0..<lines {
            let second = Int64(index) * 86_000 / Int64(max(lines, 1))
            let time = String(format: "%@ %02d:%02d:%02d", day.description, second / 3600, second % 3600 / 60, second % 60)
            let id = "B\(compact)\(String(format: "%09d", index))"
            if !payments.isEmpty, random.next() % 5 == 0 {
                let original = payments[Int(random.next() % UInt64(payments.count))]
                let amount = -Int64(1 + random.next() % UInt64(max(1, original.amount)))
                let fee = amount * 6 / 1000  // given back: negative, like the amount
                buffer += "\(time),\(id),\(original.order),RF\(compact)\(index),refund,\(Money.yuanText(fen: amount)),\(Money.yuanText(fen: fee)),CNY,SUCCESS\n"
                truth.refunds += 1
                truth.amountFen += amount
                truth.feeFen += fee
            } else {
                let amount = Int64(1 + random.next() % 500_000)
                let fee = amount * 6 / 1000
                let order = "M\(compact)\(index)"
                payments.append((id, order, amount))
                buffer += "\(time),\(id),\(order),,payment,\(Money.yuanText(fen: amount)),\(Money.yuanText(fen: fee)),CNY,SUCCESS\n"
                truth.payments += 1
                truth.amountFen += amount
                truth.feeFen += fee
            }
            truth.lines += 1
            if buffer.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(buffer.utf8))
                buffer = ""
            }
        }
        buffer += "#TOTAL,\(truth.lines),\(Money.yuanText(fen: truth.amountFen)),\(Money.yuanText(fen: truth.feeFen))\n"
        try handle.write(contentsOf: Data(buffer.utf8))
        return truth
    }
}

/// SplitMix64: small, fast and the same on every machine.
struct MockRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
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
