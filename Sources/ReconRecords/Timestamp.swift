import ReconCalendar

/// ISO 8601 instants as payment centers export them: `2026-11-23T09:15:07+08:00`, also with a
/// space for the `T` and `+08` or `+0800` for the offset (what psql's `\copy … TO STDOUT CSV`
/// writes for a `timestamptz`), `Z`, and up to six decimals of a second. An offset is required:
/// a time without one names no instant.
public enum ISOTimestamp {
    /// Microseconds since 1970, or nil with the reason.
    public static func microseconds(_ text: some StringProtocol) -> Result<Int64, TimestampProblem> {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"),
            let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
            let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19)
        else { return .failure(.shape) }
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CivilCalendar.daysInMonth(year: year, month: month)).contains(day), hour < 24, minute < 60,
            second < 60
        else { return .failure(.outOfRange) }
        var index = 19
        var micros = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                guard count < 6 else { return .failure(.tooPrecise) }
                micros = micros * 10 + Int(bytes[index] - 48)
                count += 1
                index += 1
            }
            guard count > 0 else { return .failure(.shape) }
            for _ in count..<6 { micros *= 10 }
        }
        guard index < bytes.count else { return .failure(.noOffset) }
        var offsetSeconds = 0
        if bytes[index] == UInt8(ascii: "Z") {
            guard index + 1 == bytes.count else { return .failure(.shape) }
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            let rest = bytes.count - index - 1
            let hours: Int?
            let minutes: Int?
            switch rest {
            case 2: (hours, minutes) = (digits(index + 1..<index + 3), 0)
            case 4: (hours, minutes) = (digits(index + 1..<index + 3), digits(index + 3..<index + 5))
            case 5 where bytes[index + 3] == UInt8(ascii: ":"):
                (hours, minutes) = (digits(index + 1..<index + 3), digits(index + 4..<index + 6))
            default: return .failure(.shape)
            }
            guard let hours, let minutes, hours <= 14, minutes < 60 else { return .failure(.shape) }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        } else {
            return .failure(.shape)
        }
        let days = Int64(CivilCalendar.dayNumber(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        return .success(seconds * 1_000_000 + Int64(micros))
    }
}

public enum TimestampProblem: Error, Sendable, Equatable, CustomStringConvertible {
    case shape, outOfRange, tooPrecise, noOffset

    public var description: String {
        switch self {
        case .shape: "not an ISO 8601 time such as 2026-11-23T09:15:07+08:00"
        case .outOfRange: "not a real date and time"
        case .tooPrecise: "more than 6 decimals of a second"
        case .noOffset: "no UTC offset (write +08:00 or Z)"
        }
    }
}
