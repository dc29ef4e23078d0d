public import Foundation
import ReconCalendar

/// A five-field cron schedule (minute hour day-of-month month day-of-week) read in one time zone.
///
/// Daily settlement runs at a wall-clock time of the channel's zone (Alipay's day ends at
/// midnight in Shanghai, whatever zone the coordinator's machine is in), so matching is done on
/// local wall time and only then turned into an instant. Across daylight-saving changes:
/// - a local time that does not exist (the spring-forward gap) does not fire that day;
/// - a local time that occurs twice (fall-back) fires once, at its first occurrence.
///
/// Day of month and day of week combine as in Vixie cron: if both fields are restricted, a day
/// matches when *either* does ("0 0 13 * 5" runs on the 13th and on every Friday). A field
/// counts as unrestricted when its text starts with `*`, so "*/2" does not trigger the OR rule
/// (also as in Vixie cron, whose quirk this faithfully keeps).
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The expression as given, for messages and the dashboard.
    public let expression: String
    /// The zone whose wall clock the fields are read in.
    public let timeZone: TimeZone

    private let minutes: UInt64
    private let hours: UInt64
    private let daysOfMonth: UInt64
    private let months: UInt64
    private let daysOfWeek: UInt64
    private let dayOfMonthIsStar: Bool
    private let dayOfWeekIsStar: Bool
    /// The matching minutes and hours in order, precomputed because `nextFire` walks them.
    private let minuteList: [Int]
    private let hourList: [Int]

    /// How far ahead `nextFire` looks before deciding a schedule never fires ("0 0 30 2 *").
    /// Five years covers every leap-day schedule.
    public static let searchHorizonDays = 5 * 366 + 1

    /// Parses `expression` (fields separated by spaces or tabs; names case-insensitive).
    public init(_ expression: String, timeZone: TimeZone) throws(CronError) {
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if let first = fields.first, first.hasPrefix("@") {
            throw CronError(
                field: nil, fieldName: nil,
                reason: "`\(first)` shortcuts are not supported; write the five fields")
        }
        guard fields.count == 5 else {
            throw CronError(
                field: nil, fieldName: nil,
                reason: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        self.expression = expression
        self.timeZone = timeZone
        let minutes = try CronField.minute.parse(fields[0])
        let hours = try CronField.hour.parse(fields[1])
        self.minutes = minutes
        self.hours = hours
        daysOfMonth = try CronField.dayOfMonth.parse(fields[2])
        months = try CronField.month.parse(fields[3])
        daysOfWeek = try CronField.dayOfWeek.parse(fields[4])
        dayOfMonthIsStar = fields[2].hasPrefix("*")
        dayOfWeekIsStar = fields[4].hasPrefix("*")
        minuteList = (0...59).filter { minutes & (1 << UInt64($0)) != 0 }
        hourList = (0...23).filter { hours & (1 << UInt64($0)) != 0 }
    }

    public var description: String { "\(expression) (\(timeZone.identifier))" }

    /// Whether the schedule runs at some time on this local calendar day.
    func matchesDay(dayNumber: Int) -> Bool {
        let date = CivilCalendar.date(dayNumber: dayNumber)
        guard months & (1 << UInt64(date.month)) != 0 else { return false }
        let dayOfMonthMatches = daysOfMonth & (1 << UInt64(date.day)) != 0
        let dayOfWeekMatches = daysOfWeek & (1 << UInt64(CivilCalendar.weekday(dayNumber: dayNumber))) != 0
        if dayOfMonthIsStar || dayOfWeekIsStar {
            return dayOfMonthMatches && dayOfWeekMatches
        }
        return dayOfMonthMatches || dayOfWeekMatches
    }

    /// The first instant strictly after `date` whose wall time in `timeZone` matches, at second
    /// 0; nil when nothing matches within `searchHorizonDays` (or `date` is not a usable time).
    ///
    /// Walks days, then the matching hours and minutes of matching days only, so a yearly
    /// schedule costs a few hundred integer checks, not half a million minute steps.
    public func nextFire(after date: Date) -> Date? {
        guard let afterSeconds = Self.wholeSeconds(date) else { return nil }
        let localSeconds = afterSeconds + Int64(timeZone.secondsFromGMT(for: date))
        let startDay = CivilCalendar.floorDivide(localSeconds, by: 86_400)
        let startMinuteOfDay = Int((localSeconds - startDay * 86_400) / 60)
        for dayNumber in startDay...(startDay + Int64(Self.searchHorizonDays)) {
            guard matchesDay(dayNumber: Int(dayNumber)) else { continue }
            let isFirstDay = dayNumber == startDay
            for hour in hourList {
                if isFirstDay && hour < startMinuteOfDay / 60 { continue }
                for minute in minuteList {
                    // Earlier wall times of the first day map to earlier instants: skip them
                    // without asking the zone.
                    if isFirstDay && hour * 60 + minute < startMinuteOfDay { continue }
                    let wallSeconds = dayNumber * 86_400 + Int64(hour * 3_600 + minute * 60)
                    guard let instant = firstInstant(wallSeconds: wallSeconds) else { continue }
                    let fire = Date(timeIntervalSince1970: TimeInterval(instant))
                    if fire > date { return fire }
                }
            }
        }
        return nil
    }

    /// Every fire in `(start, end]`, in order, at most `limit` of them.
    ///
    /// Used to catch up after downtime ("which daily runs did we miss?"); the limit keeps a
    /// per-minute schedule over a long outage from building a huge array.
    public func fires(between start: Date, and end: Date, limit: Int = 10_000) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while result.count < limit, let next = nextFire(after: cursor), next <= end {
            result.append(next)
            cursor = next
        }
        return result
    }

    /// The calendar date of `date` on this schedule's wall clock.
    ///
    /// A daily run firing at 00:30 in Shanghai reconciles the local day before this one.
    public func localDate(of date: Date) -> (year: Int, month: Int, day: Int) {
        let day = localDay(of: date)
        return (day.year, day.month, day.day)
    }

    /// `localDate(of:)` as a `LocalDay`, which can step to the day before.
    public func localDay(of date: Date) -> LocalDay {
        let seconds = Self.wholeSeconds(date) ?? 0
        let localSeconds = seconds + Int64(timeZone.secondsFromGMT(for: date))
        return LocalDay(dayNumber: Int(CivilCalendar.floorDivide(localSeconds, by: 86_400)))
    }

    /// Seconds since 1970 rounded down, or nil for NaN, infinities and instants beyond
    /// ±30,000 years, where calendar arithmetic is meaningless.
    private static func wholeSeconds(_ date: Date) -> Int64? {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite, abs(seconds) < 1e12 else { return nil }
        return Int64(seconds)
    }

    /// The earliest instant whose wall time in `timeZone` is `wallSeconds` (wall time written
    /// as if it were UTC seconds since 1970), or nil if the zone skips that wall time.
    private func firstInstant(wallSeconds: Int64) -> Int64? {
        ZoneTime.instants(ofWallSeconds: wallSeconds, in: timeZone).first
    }
}
