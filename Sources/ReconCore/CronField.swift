/// One of the five fields of a cron expression: its bounds, its names, and its parser.
///
/// Values are kept as a bit set (bit n set when value n matches), so matching is a shift and a
/// mask and the whole schedule stays a small value type.
enum CronField: Int, CaseIterable {
    case minute = 1, hour, dayOfMonth, month, dayOfWeek

    var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day of month"
        case .month: "month"
        case .dayOfWeek: "day of week"
        }
    }

    /// The values accepted as written. Day of week accepts 7 as a second Sunday.
    var bounds: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// What `*` covers: like `bounds`, but Sunday only once, so `*/2` on weekdays is 0,2,4,6.
    private var starBounds: ClosedRange<Int> {
        self == .dayOfWeek ? 0...6 : bounds
    }

    /// Three-letter names, lower case, whose index plus `nameOffset` is the value.
    private var names: [String] {
        switch self {
        case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        default: []
        }
    }

    private var nameOffset: Int { self == .month ? 1 : 0 }

    func error(_ reason: String) -> CronError {
        CronError(field: rawValue, fieldName: name, reason: reason)
    }

    /// Parses a field (`*`, `a`, `a-b`, `*/n`, `a-b/n`, `a/n`, and lists of these) to a bit set.
    ///
    /// `a/n` means `a-max/n`, as in cronie and most other crons.
    func parse(_ text: Substring) throws(CronError) -> UInt64 {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try parseItem(item, in: text)
        }
        if self == .dayOfWeek, bits & (1 << 7) != 0 {
            bits = (bits & ~(1 << 7)) | 1
        }
        return bits
    }

    private func parseItem(_ item: Substring, in text: Substring) throws(CronError) -> UInt64 {
        guard !item.isEmpty else { throw error("empty item in list `\(text)`") }
        let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard stepParts.count <= 2 else { throw error("`\(item)` has more than one `/`") }
        var step = 1
        if stepParts.count == 2 {
            let stepText = stepParts[1]
            guard let value = Self.number(stepText) else {
                throw error("step `\(stepText)` in `\(item)` is not a number")
            }
            guard value >= 1 else { throw error("step \(value) in `\(item)` must be at least 1") }
            step = value
        }
        let rangeText = stepParts[0]
        let range: ClosedRange<Int>
        if rangeText == "*" {
            range = starBounds
        } else {
            let ends = rangeText.split(separator: "-", omittingEmptySubsequences: false)
            switch ends.count {
            case 1:
                let value = try self.value(ends[0])
                range = stepParts.count == 2 ? value...bounds.upperBound : value...value
            case 2:
                let low = try value(ends[0])
                let high = try value(ends[1])
                guard low <= high else { throw error("range \(rangeText) is reversed (\(low) is after \(high))") }
                range = low...high
            default:
                throw error("`\(rangeText)` is not a value or a range")
            }
        }
        var bits: UInt64 = 0
        for value in stride(from: range.lowerBound, through: range.upperBound, by: step) {
            bits |= 1 << UInt64(value)
        }
        return bits
    }

    /// A number or (for month and day of week) a name, checked against the field's bounds.
    private func value(_ text: Substring) throws(CronError) -> Int {
        if let number = Self.number(text) {
            guard bounds.contains(number) else {
                throw error("\(number) is out of range \(bounds.lowerBound)–\(bounds.upperBound)")
            }
            return number
        }
        if let index = names.firstIndex(of: text.lowercased()) {
            return index + nameOffset
        }
        guard !text.isEmpty else { throw error("a range is missing one of its ends") }
        switch self {
        case .month: throw error("`\(text)` is not a month number (1–12) or name (jan–dec)")
        case .dayOfWeek: throw error("`\(text)` is not a weekday number (0–7) or name (sun–sat)")
        default: throw error("`\(text)` is not a number")
        }
    }

    /// Plain ASCII digits only (no sign, no spaces); short, so it cannot overflow.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}
