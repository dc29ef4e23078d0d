import ReconBills
import ReconCore
import ReconMatching

/// What crosses midnight for one channel and day, derived from the seed, the day and the channel
/// alone: a leg at 23:57 the channel never bills, a leg at 23:58 it bills at 00:01 the next day,
/// a bill line at 00:02 with no leg anywhere, and a payment of the day refunded the next day.
struct CarryPlan: Sendable {
    /// Paid during the day (a matched payment), refunded (in part or whole) the next day.
    var latePayment: SyntheticTransaction
    var latePaymentLeg: SyntheticLeg
    var lateRefundFen: Int64
    /// 23:57, success, on no bill.
    var unbilledLeg: SyntheticLeg
    /// 23:58, success, billed the next day at 00:01 (`nextDayLine`).
    var nextDayLeg: SyntheticLeg
    var nextDayLine: SyntheticTransaction
    /// 00:02 of the day, no leg anywhere.
    var orphanLine: SyntheticTransaction

    init(day: LocalDay, channel: SyntheticChannel, index: Int, seed: UInt64) {
        var random = SplitMix64(seed: Self.streamSeed(seed, day, index, tag: 0xCA77))
        let ids = SyntheticIDs(day: day, channelIndex: index)
        let base = 9_000_000_000
        func payment(_ serial: Int, at seconds: Int64, on lineDay: LocalDay) -> (SyntheticTransaction, SyntheticLeg) {
            let time = SyntheticTime.instant(lineDay, seconds: seconds)
            return ItemMaker.pair(
                ids: ids, channel: channel, serial: serial, time: time, random: &random)
        }
        (latePayment, latePaymentLeg) = payment(base + 1, at: 12 * 3600 + Int64(random.next() % 3600), on: day)
        lateRefundFen = 1 + Int64(random.next() % UInt64(latePayment.amountFen))
        (_, unbilledLeg) = payment(base + 2, at: 23 * 3600 + 57 * 60 + Int64(random.next() % 60), on: day)
        let late = 23 * 3600 + 58 * 60 + Int64(random.next() % 60)
        (nextDayLine, nextDayLeg) = payment(base + 3, at: late, on: day)
        // The channel's clock puts it on the next day's bill, three minutes later.
        nextDayLine.timeMicroseconds = SyntheticTime.instant(day.adding(days: 1), seconds: late - 86_400 + 180)
        nextDayLine.createdMicroseconds = nextDayLine.timeMicroseconds - 5_000_000
        (orphanLine, _) = payment(base + 4, at: 2 * 60 + Int64(random.next() % 60), on: day)
        orphanLine.channelTransactionID = ids.transaction(3, serial: base + 4)
    }

    /// A seed for one stream of one channel-day, stable across runs and platforms.
    static func streamSeed(_ seed: UInt64, _ day: LocalDay, _ channel: Int, tag: UInt64) -> UInt64 {
        var hash = seed
        for part in [UInt64(bitPattern: Int64(day.dayNumber)), UInt64(channel), tag] {
            var mix = SplitMix64(seed: hash ^ (part &* 0x9E37_79B9_7F4A_7C15))
            hash = mix.next()
        }
        return hash
    }
}

/// The ids of one channel-day: unique across channels and days, and within each format's
/// widths (UnionPay's queryId is 21 characters).
struct SyntheticIDs: Sendable {
    let date: String
    let channel: String

    init(day: LocalDay, channelIndex: Int) {
        date = day.description.filter { $0 != "-" }
        channel = LocalTime.pad(channelIndex % 100, 2)
    }

    /// 21 digits: the date, the channel, what it is (1 payment, 2 a refund's own id, 3 a line
    /// without a leg) and the serial.
    func transaction(_ kind: Int, serial: Int) -> String { date + channel + String(kind) + LocalTime.pad(serial, 10) }
    func order(_ serial: Int) -> String { "O" + date + channel + LocalTime.pad(serial, 10) }
    func refund(_ serial: Int) -> String { "RF" + date + channel + LocalTime.pad(serial, 10) }
    func leg(_ serial: Int, _ number: Int) -> String { "L" + date + channel + LocalTime.pad(serial, 10) + "-\(number)" }
    func entry(_ serial: Int, _ number: Int) -> String {
        "E" + date + channel + LocalTime.pad(serial, 10) + "-\(number)"
    }
}

/// Builds the items of one channel-day.
struct ItemMaker: Sendable {
    let day: LocalDay
    let channel: SyntheticChannel
    let channelIndex: Int
    let ids: SyntheticIDs
    /// This day's and the day before's carried items.
    let plan: CarryPlan
    let previous: CarryPlan

    init(day: LocalDay, channel: SyntheticChannel, channelIndex: Int, seed: UInt64, previous: CarryPlan) {
        self.day = day
        self.channel = channel
        self.channelIndex = channelIndex
        ids = SyntheticIDs(day: day, channelIndex: channelIndex)
        plan = CarryPlan(day: day, channel: channel, index: channelIndex, seed: seed)
        self.previous = previous
    }

    /// A payment line and its successful leg, in agreement: amount, 0.6 % fee (WeChat's five
    /// decimals, rounded for the leg), a business system and merchant.
    static func pair(
        ids: SyntheticIDs, channel: SyntheticChannel, serial: Int, time: Int64, random: inout SplitMix64,
        businessSystem: String? = nil
    ) -> (SyntheticTransaction, SyntheticLeg) {
        let amount = Int64(100 + random.next() % 200_000)
        let subject = SyntheticBill.subjects[Int(random.next() % UInt64(SyntheticBill.subjects.count))]
        let system =
            businessSystem
            ?? SyntheticDay.businessSystems[Int(random.next() % UInt64(SyntheticDay.businessSystems.count))]
        let merchant = SyntheticDay.merchantIDs[Int(random.next() % UInt64(SyntheticDay.merchantIDs.count))]
        let line = SyntheticTransaction(
            sequence: 0, kind: .payment, channelTransactionID: ids.transaction(1, serial: serial),
            merchantOrderID: ids.order(serial), refundID: nil, channelRefundID: nil, amountFen: amount,
            feeUnits: amount * 6, timeMicroseconds: time, createdMicroseconds: time - 5_000_000, subject: subject,
            payerNumber: 1 + Int(random.next() % 9_999))
        let leg = SyntheticLeg(
            orderID: line.merchantOrderID, legID: ids.leg(serial, 1), businessSystem: system, merchantID: merchant,
            kind: .channel, channel: channel.name, channelTransactionID: line.channelTransactionID, refundID: nil,
            direction: .payment, amountFen: amount, feeFen: line.feeFen, status: .success,
            occurredAtMicroseconds: time)
        return (line, leg)
    }

    /// A refund of `payment` (its line and leg) of `fen`, at `time`, with its own ids from `serial`.
    func refund(
        of payment: SyntheticTransaction, leg paymentLeg: SyntheticLeg, fen: Int64, serial: Int, time: Int64
    ) -> (SyntheticTransaction, SyntheticLeg) {
        var line = payment
        line.kind = .refund
        line.refundID = ids.refund(serial)
        line.channelRefundID = ids.transaction(2, serial: serial)
        line.amountFen = -fen
        line.feeUnits = -fen * 6
        line.timeMicroseconds = time
        var leg = paymentLeg
        leg.legID = ids.leg(serial, 2)
        leg.channelTransactionID =
            channel.refundHasOwnTransactionID ? line.channelRefundID : payment.channelTransactionID
        leg.refundID = line.refundID
        leg.direction = .refund
        leg.amountFen = -fen
        leg.feeFen = line.feeFen
        leg.occurredAtMicroseconds = time
        return (line, leg)
    }

    /// The key a bill line is staged under.
    func key(_ line: SyntheticTransaction) -> MatchKey {
        let refund = line.kind == .refund
        let id =
            refund && channel.refundHasOwnTransactionID
            ? line.channelRefundID ?? line.channelTransactionID : line.channelTransactionID
        return MatchKey(transactionID: id, refundID: line.refundID, isRefund: refund, rule: channel.keyRule)
    }

    /// An item of a bill line and/or a channel leg; with `inFiles` false only the expectation (an
    /// item of an earlier day resolved on this one).
    func item(
        line: SyntheticTransaction? = nil, leg: SyntheticLeg? = nil, status: MatchStatus, inFiles: Bool = true
    ) -> SyntheticItem {
        var item = SyntheticItem(channelIndex: channelIndex)
        if inFiles {
            if let line { item.transactions.append(line) }
            if let leg { item.legs.append(leg) }
        }
        item.expected.append(expected(line: line, leg: leg, status: status))
        return item
    }

    func expected(line: SyntheticTransaction?, leg: SyntheticLeg?, status: MatchStatus) -> ExpectedResult {
        let key = leg?.key(rule: channel.keyRule) ?? line.map(key) ?? MatchKey(transactionID: "")
        return ExpectedResult(
            channel: channel.name, billDate: day, channelTxnID: key.transactionID, refundKey: key.refundID,
            legID: leg?.legID, status: status, channelAmountFen: line?.amountFen, internalAmountFen: leg?.amountFen,
            channelFeeFen: line?.feeFen, internalFeeFen: leg?.feeFen, businessSystem: leg?.businessSystem,
            merchantID: leg?.merchantID, legStatus: leg?.status)
    }

    func expected(virtual leg: SyntheticLeg?, entry: SyntheticLedgerEntry?, status: MatchStatus) -> ExpectedResult {
        ExpectedResult(
            channel: (leg?.kind ?? entry?.asset ?? .preDeposit).rawValue, billDate: day,
            channelTxnID: leg?.legID ?? entry?.legID ?? "", refundKey: "", legID: leg?.legID, entryID: entry?.entryID,
            status: status, channelAmountFen: entry?.amountFen, internalAmountFen: leg?.amountFen, channelFeeFen: nil,
            internalFeeFen: nil, businessSystem: leg?.businessSystem, merchantID: leg?.merchantID,
            legStatus: leg?.status)
    }

    /// A virtual leg of the order of `leg`, its ledger entry (moved as the leg says, unless told
    /// otherwise), added to `item` with what the rules say of the pair.
    func addVirtual(
        to item: inout SyntheticItem, orderLeg leg: SyntheticLeg, number: Int, asset: LegKind, fen: Int64,
        status: LegStatus = .success, entryFen: Int64?, expected: MatchStatus, serial: Int, payer: Int
    ) {
        var virtual = leg
        virtual.legID = ids.leg(serial, number)
        virtual.kind = asset
        virtual.channel = nil
        virtual.channelTransactionID = nil
        virtual.refundID = nil
        virtual.amountFen = fen
        virtual.feeFen = 0
        virtual.status = status
        item.legs.append(virtual)
        let entry = entryFen.map {
            SyntheticLedgerEntry(
                entryID: ids.entry(serial, number), accountID: "A" + LocalTime.pad(payer, 8), asset: asset,
                legID: virtual.legID, amountFen: $0, occurredAtMicroseconds: leg.occurredAtMicroseconds)
        }
        if let entry { item.entries.append(entry) }
        item.expected.append(self.expected(virtual: virtual, entry: entry, status: expected))
    }

    /// One body item of `scenario`.
    func body(_ scenario: Scenario, serial: Int, time: Int64, random: inout SplitMix64) -> SyntheticItem {
        let (line, leg) = Self.pair(
            ids: ids, channel: channel, serial: serial, time: time, random: &random,
            businessSystem: scenario == .dataTraffic ? "telecom" : nil)
        let payer = line.payerNumber
        let small = Int64(1 + random.next() % 5_000)
        var item = SyntheticItem(channelIndex: channelIndex)
        func pairItem(_ line: SyntheticTransaction, _ leg: SyntheticLeg, _ status: MatchStatus) {
            item.transactions.append(line)
            item.legs.append(leg)
            item.expected.append(expected(line: line, leg: leg, status: status))
        }
        func legOnly(_ status: LegStatus, _ expected: MatchStatus) {
            var leg = leg
            leg.status = status
            item.legs.append(leg)
            item.expected.append(self.expected(line: nil, leg: leg, status: expected))
        }
        switch scenario {
        case .payment:
            pairItem(line, leg, .matched)
        case .combination:
            pairItem(line, leg, .matched)
            addVirtual(
                to: &item, orderLeg: leg, number: 2, asset: .preDeposit, fen: small, entryFen: small,
                expected: .matched, serial: serial, payer: payer)
            let points = Int64(1 + random.next() % 3_000)
            addVirtual(
                to: &item, orderLeg: leg, number: 3, asset: .points, fen: points, entryFen: points,
                expected: .matched, serial: serial, payer: payer)
        case .dataTraffic:
            pairItem(line, leg, .matched)
            addVirtual(
                to: &item, orderLeg: leg, number: 2, asset: .dataTraffic, fen: small, entryFen: small,
                expected: .matched, serial: serial, payer: payer)
        case .paymentAndRefund:
            pairItem(line, leg, .matched)
            let fen = random.next() % 2 == 0 ? line.amountFen : 1 + Int64(random.next() % UInt64(line.amountFen))
            let (refundLine, refundLeg) = refund(
                of: line, leg: leg, fen: fen, serial: serial,
                time: time + 60_000_000 + Int64(random.next() % 240) * 1_000_000)
            pairItem(refundLine, refundLeg, .matched)
        case .failedUnbilled:
            legOnly(.failed, .matched)
        case .closedUnbilled:
            legOnly(.closed, .matched)
        case .latePayment:
            // At the plan's time (about noon), which the next day's refund row repeats as Alipay's 创建时间.
            pairItem(plan.latePayment, plan.latePaymentLeg, .matched)
        case .lateRefund:
            // Its payment was made the day before: no file of this day holds the payment's leg.
            let (refundLine, refundLeg) = refund(
                of: previous.latePayment, leg: previous.latePaymentLeg, fen: previous.lateRefundFen, serial: serial,
                time: time)
            pairItem(refundLine, refundLeg, .matched)
        case .amountMismatch:
            var leg = leg
            let delta = Int64(1 + random.next() % 500)
            leg.amountFen += random.next() % 2 == 0 || leg.amountFen <= delta ? delta : -delta
            pairItem(line, leg, .amountMismatch)
        case .statusMismatchFailed, .statusMismatchPending:
            var leg = leg
            leg.status = scenario == .statusMismatchFailed ? .failed : .pending
            pairItem(line, leg, .statusMismatch)
        case .feeMismatch:
            var leg = leg
            leg.feeFen += Int64(1 + random.next() % 20)
            pairItem(line, leg, .feeMismatch)
        case .channelOnly:
            item.transactions.append(line)
            item.expected.append(expected(line: line, leg: nil, status: .channelOnly))
        case .internalOnlySuccess:
            legOnly(.success, .internalOnly)
        case .internalOnlyPending:
            legOnly(.pending, .internalOnly)
        case .virtualAmountMismatch:
            pairItem(line, leg, .matched)
            let delta = Int64(1 + random.next() % 300)
            addVirtual(
                to: &item, orderLeg: leg, number: 2, asset: .preDeposit, fen: small,
                entryFen: random.next() % 2 == 0 ? small + delta : small - delta, expected: .amountMismatch,
                serial: serial, payer: payer)
        case .virtualStatusMismatch:
            pairItem(line, leg, .matched)
            let statuses: [LegStatus] = [.failed, .closed, .pending]
            addVirtual(
                to: &item, orderLeg: leg, number: 2, asset: .points, fen: small,
                status: statuses[Int(random.next() % 3)], entryFen: small, expected: .statusMismatch, serial: serial,
                payer: payer)
        case .virtualInternalOnly:
            pairItem(line, leg, .matched)
            addVirtual(
                to: &item, orderLeg: leg, number: 2, asset: .points, fen: small,
                status: random.next() % 2 == 0 ? .success : .pending, entryFen: nil, expected: .internalOnly,
                serial: serial, payer: payer)
        case .virtualChannelOnly:
            // A ledger movement naming a leg that no payments file holds.
            let entry = SyntheticLedgerEntry(
                entryID: ids.entry(serial, 1), accountID: "A" + LocalTime.pad(payer, 8), asset: .preDeposit,
                legID: "LX" + ids.leg(serial, 1).dropFirst(), amountFen: small, occurredAtMicroseconds: time)
            item.entries.append(entry)
            item.expected.append(expected(virtual: nil, entry: entry, status: .channelOnly))
        case .virtualUnmoved:
            pairItem(line, leg, .matched)
            addVirtual(
                to: &item, orderLeg: leg, number: 2, asset: .preDeposit, fen: small,
                status: random.next() % 2 == 0 ? .failed : .closed, entryFen: nil, expected: .matched,
                serial: serial, payer: payer)
        }
        return item
    }
}
