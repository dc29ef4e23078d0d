public import ReconCore
import ReconMatching

/// A consistent synthetic business day (issue 12 §6): for each channel its bill, the payment
/// center's legs of the day and the virtual-account ledger, generated together from one seed with
/// every discrepancy kind injected, and what reconciling the day must say of every item.
///
/// Each channel-day is a stream of `SyntheticItem`s, generated one at a time: a million-line
/// channel-day never holds more than one item. What crosses midnight (a leg at 23:58 that the
/// channel bills at 00:01 the next day, a leg at 23:57 it never bills, a bill line at 00:02 with
/// no leg, a payment refunded the next day) is derived from the seed, the day and the channel
/// alone (`CarryPlan`), so day D+1 knows what D carried without generating D.
public struct SyntheticDay: Sendable {
    /// What was reconciled before this day, which decides what this day's start-window lines
    /// pair with and which carried items of the day before are resolved on this day.
    public enum Prior: Sendable, Equatable {
        /// This day alone: its lines in the first five minutes are carried over.
        case none
        /// The day before was reconciled alone (so its own first-minutes lines were carried over).
        case previousDayOnly
        /// Every day before was reconciled, each after its own day before.
        case everyPreviousDay
    }

    public let seed: UInt64
    public let day: LocalDay
    public let channels: [SyntheticChannel]
    /// Bill lines per channel: exact once it can hold the kinds every day guarantees (about 20).
    public let linesPerChannel: Int
    /// Of the background items, how many in a thousand get a random discrepancy (0.5 % by default).
    public let discrepancyPerMille: Int

    public static let businessSystems = ["mall", "telecom"]
    public static let merchantIDs = ["M001", "M002"]

    public init(
        seed: UInt64, day: LocalDay, channels: [SyntheticChannel] = SyntheticChannel.standard, linesPerChannel: Int,
        discrepancyPerMille: Int = 5
    ) {
        self.seed = seed
        self.day = day
        self.channels = channels
        self.linesPerChannel = max(0, linesPerChannel)
        self.discrepancyPerMille = min(1000, max(0, discrepancyPerMille))
    }

    /// The same seed and channels on another day.
    public func on(_ other: LocalDay) -> SyntheticDay {
        SyntheticDay(
            seed: seed, day: other, channels: channels, linesPerChannel: linesPerChannel,
            discrepancyPerMille: discrepancyPerMille)
    }

    /// The items of one channel's day, in bill order. The bill's bytes, the legs and the entries
    /// do not depend on `prior`; only the expected results do.
    public func items(channel index: Int, prior: Prior = .none) -> SyntheticChannelDay {
        SyntheticChannelDay(day: self, channelIndex: index, prior: prior)
    }
}

/// One thing of a synthetic day: the bill lines, legs and ledger entries it adds to the day's
/// files, and what reconciling the day says of it. An item may add nothing to the files (one of
/// the day before's carried items resolved on this day).
public struct SyntheticItem: Sendable, Equatable {
    public var channelIndex: Int
    /// Lines of the channel's bill for the day, `sequence` numbered from 1 through the bill.
    public var transactions: [SyntheticTransaction] = []
    public var legs: [SyntheticLeg] = []
    public var entries: [SyntheticLedgerEntry] = []
    public var expected: [ExpectedResult] = []

    public init(channelIndex: Int) { self.channelIndex = channelIndex }
}

/// The items of one channel's synthetic day, generated as they are iterated.
public struct SyntheticChannelDay: Sequence, Sendable {
    public let day: SyntheticDay
    public let channelIndex: Int
    public let prior: SyntheticDay.Prior

    public func makeIterator() -> Iterator { Iterator(self) }

    public struct Iterator: IteratorProtocol, Sendable {
        private var maker: ItemMaker
        private var start: [SyntheticItem]
        private var end: [SyntheticItem]
        private var random: SplitMix64
        private var serial = 0
        private var bodyLines = 0
        private let bodyTarget: Int
        private var guaranteedNext = 0
        private var sequence = 0
        private var phase = 0

        init(_ stream: SyntheticChannelDay) {
            let day = stream.day
            let channel = day.channels[stream.channelIndex]
            maker = ItemMaker(
                day: day.day, channel: channel, channelIndex: stream.channelIndex, seed: day.seed,
                previous: CarryPlan(day: day.day.previous, channel: channel, index: stream.channelIndex, seed: day.seed)
            )
            let today = maker.plan
            var start: [SyntheticItem] = []
            let previous = maker.previous
            if stream.prior != .none {
                // The day before's carried items, resolved on this day: its 23:57 leg the bill of
                // this day does not hold, its 00:02 line no leg ever met.
                start.append(maker.item(leg: previous.unbilledLeg, status: .internalOnly, inFiles: false))
                start.append(maker.item(line: previous.orphanLine, status: .channelOnly, inFiles: false))
                if stream.prior == .previousDayOnly {
                    // Reconciled alone, the day before carried its own 00:01 line over too.
                    let twoBefore = CarryPlan(
                        day: day.day.adding(days: -2), channel: channel, index: stream.channelIndex, seed: day.seed)
                    start.append(maker.item(line: twoBefore.nextDayLine, status: .channelOnly, inFiles: false))
                }
                // The day before's 23:58 leg meets the line the channel billed it on at 00:01.
                var paired = maker.item(
                    line: previous.nextDayLine, leg: previous.nextDayLeg, status: .matched, inFiles: false)
                paired.transactions = [previous.nextDayLine]
                start.append(paired)
            } else {
                start.append(maker.item(line: previous.nextDayLine, status: .carriedOver))
            }
            start.append(maker.item(line: today.orphanLine, status: .carriedOver))
            self.start = start
            end = [
                maker.item(leg: today.unbilledLeg, status: .carriedOver),
                maker.item(leg: today.nextDayLeg, status: .carriedOver),
            ]
            random = SplitMix64(seed: CarryPlan.streamSeed(day.seed, day.day, stream.channelIndex, tag: 0xB0D1))
            let fixedLines = start.reduce(0) { $0 + $1.transactions.count }
            bodyTarget = Swift.max(0, day.linesPerChannel - fixedLines)
            perMille = day.discrepancyPerMille
        }

        private let perMille: Int

        public mutating func next() -> SyntheticItem? {
            var item: SyntheticItem
            switch phase {
            case 0:
                if start.isEmpty {
                    phase = 1
                    return next()
                }
                item = start.removeFirst()
            case 1:
                guard let body = nextBody() else {
                    phase = 2
                    return next()
                }
                item = body
            default:
                guard !end.isEmpty else { return nil }
                item = end.removeFirst()
            }
            for index in item.transactions.indices {
                sequence += 1
                item.transactions[index].sequence = sequence
            }
            return item
        }

        private mutating func nextBody() -> SyntheticItem? {
            let guaranteed = Scenario.guaranteed
            guard bodyLines < bodyTarget || guaranteedNext < guaranteed.count else { return nil }
            let remaining = bodyTarget - bodyLines
            var scenario: Scenario
            if guaranteedNext < guaranteed.count,
                bodyLines * guaranteed.count >= guaranteedNext * bodyTarget
                    || remaining <= guaranteed[guaranteedNext...].reduce(0, { $0 + $1.lines })
            {
                scenario = guaranteed[guaranteedNext]
                guaranteedNext += 1
            } else {
                if Int(random.next() % 1000) < perMille {
                    scenario = Scenario.discrepancies[Int(random.next() % UInt64(Scenario.discrepancies.count))]
                } else {
                    scenario = Scenario.background(random.next() % 100)
                }
                if scenario.lines > remaining { scenario = .payment }
            }
            serial += 1
            // From 00:10 to 23:50 in bill order, clear of both carry-over windows.
            let span: Int64 = 23 * 3600 + 40 * 60
            let offset = bodyTarget > 0 ? span * Int64(Swift.min(bodyLines, bodyTarget)) / Int64(bodyTarget) : 0
            let time = SyntheticTime.instant(
                maker.day, seconds: 600 + offset + Int64(random.next() % 20))
            let item = maker.body(scenario, serial: serial, time: time, random: &random)
            bodyLines += item.transactions.count
            return item
        }
    }
}

/// The kinds of body items.
enum Scenario: Sendable, CaseIterable {
    case payment, combination, dataTraffic, paymentAndRefund, failedUnbilled, closedUnbilled
    case latePayment, lateRefund
    case amountMismatch, statusMismatchFailed, statusMismatchPending, feeMismatch, channelOnly
    case internalOnlySuccess, internalOnlyPending
    case virtualAmountMismatch, virtualStatusMismatch, virtualInternalOnly, virtualChannelOnly, virtualUnmoved

    /// Every channel-day holds each of these at least once.
    static let guaranteed: [Scenario] = allCases.filter { $0 != .payment }

    /// What a random discrepancy is.
    static let discrepancies: [Scenario] = [
        .amountMismatch, .statusMismatchFailed, .statusMismatchPending, .feeMismatch, .channelOnly,
        .internalOnlySuccess, .internalOnlyPending, .virtualAmountMismatch, .virtualStatusMismatch,
        .virtualInternalOnly, .virtualChannelOnly,
    ]

    /// A background item from a draw in 0..<100.
    static func background(_ draw: UInt64) -> Scenario {
        switch draw {
        case 0..<70: .payment
        case 70..<78: .combination
        case 78..<80: .dataTraffic
        case 80..<95: .paymentAndRefund
        case 95..<98: .failedUnbilled
        default: .closedUnbilled
        }
    }

    /// Bill lines it adds.
    var lines: Int {
        switch self {
        case .paymentAndRefund: 2
        case .failedUnbilled, .closedUnbilled, .internalOnlySuccess, .internalOnlyPending, .virtualChannelOnly: 0
        default: 1
        }
    }
}
