/// A bill line as reconciliation compares it: signed amount and normalized fee in fen, and
/// whether the channel says money moved.
public struct ChannelSide: Sendable, Equatable {
    public var key: MatchKey
    /// Payments positive, refunds negative.
    public var amountFen: Int64
    /// "+ charged, − given back", already rounded to fen by the bill's parser.
    public var feeFen: Int64
    public var movedMoney: Bool
    /// The channel's time of the line, microseconds since 1970.
    public var timeMicroseconds: Int64
    /// The line of the bill file, for every message about it.
    public var lineNumber: Int

    public init(
        key: MatchKey, amountFen: Int64, feeFen: Int64, movedMoney: Bool, timeMicroseconds: Int64, lineNumber: Int
    ) {
        self.key = key
        self.amountFen = amountFen
        self.feeFen = feeFen
        self.movedMoney = movedMoney
        self.timeMicroseconds = timeMicroseconds
        self.lineNumber = lineNumber
    }

    /// Whether a line with this channel status moved money. Every line of the four formats does
    /// (a WeChat `REVOKED` row is a refund, CHANNELS.md §2.3); a bank file's status column may
    /// say a transaction failed or was closed.
    public static func movedMoney(channelStatus: String?) -> Bool {
        guard let status = channelStatus?.uppercased() else { return true }
        return !["FAILED", "FAIL", "CLOSED", "CLOSE", "CANCELLED", "CANCELED"].contains(status)
    }
}

/// An internal channel leg as reconciliation compares it (issue 12, §1: amounts and fees signed
/// here, a refund's negative).
public struct InternalSide: Sendable, Equatable {
    public var legID: String
    public var key: MatchKey
    public var amountFen: Int64
    public var feeFen: Int64
    public var status: LegStatus
    /// `occurred_at`, microseconds since 1970.
    public var occurredAtMicroseconds: Int64
    /// Whose money it is: settlement sums by these.
    public var businessSystem: String
    public var merchantID: String

    public init(
        legID: String, key: MatchKey, amountFen: Int64, feeFen: Int64, status: LegStatus, occurredAtMicroseconds: Int64,
        businessSystem: String = "", merchantID: String = ""
    ) {
        self.businessSystem = businessSystem
        self.merchantID = merchantID
        self.legID = legID
        self.key = key
        self.amountFen = amountFen
        self.feeFen = feeFen
        self.status = status
        self.occurredAtMicroseconds = occurredAtMicroseconds
    }
}

/// The instants around a bill day's two midnights inside which an unpaired item may still pair
/// with the neighbouring day (the channel's `carry_over_window`, 5 minutes by default).
public struct CarryWindow: Sendable, Equatable {
    /// The bill day's 00:00 in the channel's time zone, microseconds since 1970.
    public var dayStart: Int64
    /// The next day's 00:00.
    public var nextDayStart: Int64
    public var widthMicroseconds: Int64

    public init(dayStart: Int64, nextDayStart: Int64, widthMicroseconds: Int64) {
        self.dayStart = dayStart
        self.nextDayStart = nextDayStart
        self.widthMicroseconds = widthMicroseconds
    }

    /// A bill line in `[day 00:00, 00:00 + W)`.
    public func isJustAfterMidnight(_ microseconds: Int64) -> Bool {
        microseconds >= dayStart && microseconds < dayStart + widthMicroseconds
    }

    /// A leg in `[next day 00:00 − W, next day 00:00)`.
    public func isJustBeforeNextMidnight(_ microseconds: Int64) -> Bool {
        microseconds >= nextDayStart - widthMicroseconds && microseconds < nextDayStart
    }
}
