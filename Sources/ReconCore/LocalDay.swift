import ReconCalendar

/// A calendar day with no time and no zone: the business day a reconciliation run is about.
///
/// Kept apart from `Date` because "2026-11-23" means a different span of instants in each
/// channel's time zone; the zone is applied once, by `CronSchedule.localDay(of:)`, and from
/// then on the day is just three numbers that compare, hash and print without ambiguity.
public struct LocalDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A valid Gregorian date in years 1–9999, or nil.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CivilCalendar.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`, the form used on the command line and in task keys.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public init(dayNumber: Int) {
        (year, month, day) = CivilCalendar.date(dayNumber: dayNumber)
    }

    /// Days since 1970-01-01, so that day arithmetic is integer arithmetic.
    public var dayNumber: Int {
        CivilCalendar.dayNumber(year: year, month: month, day: day)
    }

    /// The day `days` later (earlier when negative), across month and year ends.
    public func adding(days: Int) -> LocalDay {
        LocalDay(dayNumber: dayNumber + days)
    }

    /// The day before: what a daily run just after midnight reconciles.
    public var previous: LocalDay { adding(days: -1) }

    /// Today in Beijing (where every channel's day is), `offset` days later or earlier.
    public static func beijingToday(offset: Int = 0) -> LocalDay {
        LocalDay(dayNumber: Int(CivilCalendar.floorDivide(LocalTime.beijingNow(), by: 86_400)) + offset)
    }

    /// 0 for Sunday through 6 for Saturday.
    public var weekday: Int { CivilCalendar.weekday(dayNumber: dayNumber) }

    /// `YYYY-MM-DD`.
    public var description: String {
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    public static func < (lhs: LocalDay, rhs: LocalDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Encoded as its `YYYY-MM-DD` string, and validated when decoded.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let day = LocalDay(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a date as YYYY-MM-DD, found \"\(text)\"")
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
