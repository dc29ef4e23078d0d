import ReconCalendar

/// PostgreSQL type OIDs the project uses (pg_type.oid; stable across server versions).
public struct PGOid: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let bool = PGOid(rawValue: 16)
    public static let bytea = PGOid(rawValue: 17)
    public static let name = PGOid(rawValue: 19)
    public static let int8 = PGOid(rawValue: 20)
    public static let int2 = PGOid(rawValue: 21)
    public static let int4 = PGOid(rawValue: 23)
    public static let text = PGOid(rawValue: 25)
    public static let oid = PGOid(rawValue: 26)
    public static let json = PGOid(rawValue: 114)
    public static let bpchar = PGOid(rawValue: 1042)
    public static let varchar = PGOid(rawValue: 1043)
    public static let date = PGOid(rawValue: 1082)
    public static let timestamp = PGOid(rawValue: 1114)
    public static let timestamptz = PGOid(rawValue: 1184)
    public static let numeric = PGOid(rawValue: 1700)
    public static let uuid = PGOid(rawValue: 2950)
    public static let jsonb = PGOid(rawValue: 3802)
    /// Lets the server infer the type from context.
    public static let unspecified = PGOid(rawValue: 0)
}

/// A calendar day with no time zone: a business day, a bill date. PostgreSQL `date`.
public struct PGDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 2000-01-01, PostgreSQL's own epoch for `date`.
    public var daysSince2000: Int32

    public init(daysSince2000: Int32) { self.daysSince2000 = daysSince2000 }

    /// Nil when the fields don't name a real day (2026-02-30).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= daysInMonth(year: year, month: month)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day) - daysFromCivil(year: 2000, month: 1, day: 1)
        guard let narrow = Int32(exactly: days) else { return nil }
        daysSince2000 = narrow
    }

    /// Parses `YYYY-MM-DD`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public var components: (year: Int, month: Int, day: Int) {
        civilFromDays(Int(daysSince2000) + daysFromCivil(year: 2000, month: 1, day: 1))
    }

    public func adding(days: Int32) -> PGDate { PGDate(daysSince2000: daysSince2000 + days) }

    public var description: String {
        let (year, month, day) = components
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    public static func < (lhs: PGDate, rhs: PGDate) -> Bool { lhs.daysSince2000 < rhs.daysSince2000 }
}

/// An instant with microsecond precision, as PostgreSQL stores `timestamptz`. Integer, so exact.
public struct PGTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microsecondsSince1970: Int64

    public init(microsecondsSince1970: Int64) { self.microsecondsSince1970 = microsecondsSince1970 }

    /// Microseconds between the Unix epoch and PostgreSQL's epoch, 2000-01-01 00:00 UTC.
    static let postgresEpochOffset: Int64 = 946_684_800_000_000

    /// ISO 8601 in UTC with microseconds, e.g. `2026-11-23T01:15:07.000000Z`; the server parses it as is.
    public var description: String {
        let (seconds, micros) = microsecondsSince1970.quotientAndRemainder(dividingBy: 1_000_000)
        let (wholeSeconds, fraction) = micros < 0 ? (seconds - 1, micros + 1_000_000) : (seconds, micros)
        let (days, secondOfDay) = floorDivide(wholeSeconds, 86_400)
        let (year, month, day) = civilFromDays(Int(days))
        let hour = Int(secondOfDay / 3600), minute = Int(secondOfDay % 3600 / 60), second = Int(secondOfDay % 60)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(hour, 2) + ":" + pad(minute, 2)
            + ":" + pad(second, 2) + "." + pad(Int(fraction), 6) + "Z"
    }

    public static func < (lhs: PGTimestamp, rhs: PGTimestamp) -> Bool {
        lhs.microsecondsSince1970 < rhs.microsecondsSince1970
    }
}

/// A `numeric` value as exact decimal text (e.g. "-12.340"). Money in Recon is Int64 fen;
/// this exists so that sums computed by the server can be read back without rounding.
public struct PGNumeric: Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
}

/// A `jsonb` (or `json`) document as its UTF-8 text. Encoding/decoding structure is the caller's choice.
public struct PGJSON: Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
}

// MARK: - Calendar arithmetic (ReconCalendar's exact proleptic Gregorian formulas, epoch 1970)

func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    CivilCalendar.dayNumber(year: year, month: month, day: day)
}

func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) { CivilCalendar.date(dayNumber: days) }

func daysInMonth(year: Int, month: Int) -> Int { CivilCalendar.daysInMonth(year: year, month: month) }

func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    let (q, r) = a.quotientAndRemainder(dividingBy: b)
    return r < 0 ? (q - 1, r + b) : (q, r)
}

func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(abs(value))
    let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    return value < 0 ? "-" + padded : padded
}

/// In JSON a timestamp is its integer microseconds since 1970: exact, and no time zone to get wrong.
extension PGTimestamp: Codable {
    public init(from decoder: any Decoder) throws {
        microsecondsSince1970 = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(microsecondsSince1970)
    }
}

/// In JSON a date is `YYYY-MM-DD`.
extension PGDate: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = PGDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not a YYYY-MM-DD date")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
