import ReconBills
public import ReconCore

/// A deterministic day of business: payments spread over the day, and refunds (in part or in
/// full) of recent payments, each with a 0.6 % fee and a Chinese subject. Streams: only the
/// last few payments are kept, to refund from, so a million-line bill needs no memory for it.
public struct SyntheticBill: Sequence, Sendable {
    public let day: LocalDay
    public let count: Int
    public let seed: UInt64

    static let subjects = ["测试商品A", "会员月卡", "咖啡（大杯）", "电影票两张", "话费充值", "图书：三体", "早餐套餐", "停车费"]

    public static func generate(day: LocalDay, count: Int, seed: UInt64) -> SyntheticBill {
        SyntheticBill(day: day, count: count, seed: seed)
    }

    /// Counts and sums of the whole bill (generates it once more).
    public var truth: SyntheticTruth {
        var truth = SyntheticTruth()
        for transaction in self { truth.add(transaction) }
        return truth
    }

    public func makeIterator() -> Iterator {
        Iterator(bill: self)
    }

    public struct Iterator: IteratorProtocol, Sendable {
        private let bill: SyntheticBill
        private var random: SplitMix64
        private var index = 0
        /// Recent payments and how much of each is still refundable.
        private var refundable: [(payment: SyntheticTransaction, left: Int64)] = []
        private let date: String

        init(bill: SyntheticBill) {
            self.bill = bill
            random = SplitMix64(seed: bill.seed)
            date = bill.day.description.filter { $0 != "-" }
        }

        public mutating func next() -> SyntheticTransaction? {
            guard index < bill.count else { return nil }
            index += 1
            // Spread over the day in order, so a refund never precedes its payment.
            let start = Int64(bill.day.dayNumber) * 86_400 - LocalTime.beijingOffsetSeconds
            let slot = Int64(86_400 / Swift.max(bill.count, 1))
            let second =
                start + Int64(index - 1) * 86_400 / Int64(bill.count)
                + Int64(random.next() % UInt64(Swift.max(slot, 1)))
            let time = second * 1_000_000
            if random.next() % 5 == 0, let pick = refundable.indices.first(where: { refundable[$0].left > 0 }) {
                return refund(of: pick, at: time)
            }
            return payment(at: time)
        }

        private mutating func payment(at time: Int64) -> SyntheticTransaction {
            let amount = Int64(1 + random.next() % 100_000)
            let subject = SyntheticBill.subjects[Int(random.next() % UInt64(SyntheticBill.subjects.count))]
            let payment = SyntheticTransaction(
                sequence: index, kind: .payment, channelTransactionID: date + LocalTime.pad(index, 13),
                merchantOrderID: "R" + date + LocalTime.pad(index, 8), refundID: nil, channelRefundID: nil,
                amountFen: amount, feeUnits: amount * 6, timeMicroseconds: time, createdMicroseconds: time - 5_000_000,
                subject: subject, payerNumber: 1 + Int(random.next() % 9_999))
            if refundable.count == 64 { refundable.removeFirst() }
            refundable.append((payment, amount))
            return payment
        }

        private mutating func refund(of pick: Int, at time: Int64) -> SyntheticTransaction {
            let payment = refundable[pick].payment
            let amount =
                random.next() % 2 == 0
                ? refundable[pick].left : Int64(1 + random.next() % UInt64(refundable[pick].left))
            refundable[pick].left -= amount
            var refund = payment
            refund.sequence = index
            refund.kind = .refund
            refund.refundID = "RF" + date + LocalTime.pad(index, 8)
            refund.channelRefundID = "9" + date + LocalTime.pad(index, 12)
            refund.amountFen = -amount
            refund.feeUnits = -amount * 6
            refund.timeMicroseconds = time
            return refund
        }
    }
}
