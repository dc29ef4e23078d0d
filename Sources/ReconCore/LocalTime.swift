/// Wall-clock times as bills write them: Beijing time with no offset (CHANNELS.md §0), read as
/// seconds since 1970 of that wall time taken as UTC; the caller subtracts the zone's offset.
import Foundation
import ReconCalendar

public enum LocalTime {
    /// Beijing is UTC+08:00 all year (no DST).
    public static let beijingOffsetSeconds: Int64 = 8 * 3600

    /// Microseconds since 1970 by the machine's clock: what an injectable clock (a job handler's,
    /// a fetch session's) reads when nothing sets it.
    public static func wallClockMicroseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
    }

    /// Whole seconds since 1970 at `microseconds` since 1970 (rounded down, before 1970 too).
    public static func unixSeconds(atMicroseconds microseconds: Int64) -> Int64 {
        CivilCalendar.floorDivide(microseconds, by: 1_000_000)
    }

    /// Beijing wall-clock seconds at `microseconds` since 1970 (what the channels' APIs take).
    public static func beijingSeconds(atMicroseconds microseconds: Int64) -> Int64 {
        unixSeconds(atMicroseconds: microseconds) + beijingOffsetSeconds
    }

    /// Now, as Beijing wall-clock seconds (the clock the channels' APIs and bills use).
    public static func beijingNow() -> Int64 {
        beijingSeconds(atMicroseconds: wallClockMicroseconds())
    }

    /// `yyyy-MM-dd HH:mm:ss`.
    package static func parse(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(bytes, 0..<4), let month = number(bytes, 5..<7), let day = number(bytes, 8..<10),
            let hour = number(bytes, 11..<13), let minute = number(bytes, 14..<16),
            let second = number(bytes, 17..<19)
        else { return nil }
        return seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// The wall time as seconds since 1970 read as UTC, or nil when a part is out of range.
    package static func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CivilCalendar.daysInMonth(year: year, month: month)).contains(day), (0..<24).contains(hour),
            (0..<60).contains(minute), (0..<60).contains(second)
        else { return nil }
        let days = Int64(CivilCalendar.dayNumber(year: year, month: month, day: day))
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The decimal number in `bytes[range]`, or nil if any byte there is not a digit.
    package static func number(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        var value = 0
        for index in range {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                return nil
            }
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
        }
        return value
    }

    /// `yyyy-MM-dd HH:mm:ss` for local seconds (the writers' inverse of `parse`).
    public static func text(_ localSeconds: Int64) -> String {
        let parts = components(localSeconds)
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2)) "
            + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))"
    }

    package static func components(_ localSeconds: Int64)
        -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)
    {
        let days = CivilCalendar.floorDivide(localSeconds, by: 86_400)
        let date = CivilCalendar.date(dayNumber: Int(days))
        let inDay = Int(localSeconds - days * 86_400)
        return (date.year, date.month, date.day, inDay / 3600, inDay / 60 % 60, inDay % 60)
    }

    package static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
