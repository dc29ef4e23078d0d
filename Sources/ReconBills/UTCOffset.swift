public import ReconCore

/// A bank file's time zone. Only fixed offsets: a zone with DST would make some wall times
/// ambiguous, and the channels in CHANNELS.md all write Beijing time.
public struct UTCOffset: Sendable, Equatable {
    /// As configured: `Asia/Shanghai`, `UTC` or `+HH:MM`.
    public let name: String
    /// East of UTC.
    public let seconds: Int64

    public static let beijing = UTCOffset(name: "Asia/Shanghai", seconds: LocalTime.beijingOffsetSeconds)
    public static let utc = UTCOffset(name: "UTC", seconds: 0)

    private init(name: String, seconds: Int64) {
        self.name = name
        self.seconds = seconds
    }

    public init(_ name: String) throws(BankCSVProfile.Problem) {
        switch name {
        case "Asia/Shanghai": self = .beijing
        case "UTC", "Etc/UTC": self = .utc
        default:
            guard let seconds = Self.parseOffset(Array(name.utf8)[...]) else {
                throw BankCSVProfile.Problem(
                    key: "time_zone",
                    message: "\"\(name)\" is not supported: use Asia/Shanghai, UTC or a fixed offset such as +08:00")
            }
            self.init(name: name, seconds: seconds)
        }
    }

    /// `Z`, `+HH:MM`, `+HHMM` or `+HH` (or `-`), as written at the end of a time value.
    static func parseOffset(_ bytes: ArraySlice<UInt8>) -> Int64? {
        let bytes = Array(bytes)
        if bytes == [UInt8(ascii: "Z")] { return 0 }
        guard let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
        let digits = bytes.dropFirst().filter { $0 != UInt8(ascii: ":") }
        let colonAt3 = bytes.count == 6 && bytes[3] == UInt8(ascii: ":")
        guard digits.count == 2 || digits.count == 4, bytes.count == digits.count + 1 || colonAt3,
            let hours = LocalTime.number(Array(digits), 0..<2), hours <= 14
        else { return nil }
        let minutes = digits.count == 4 ? LocalTime.number(Array(digits), 2..<4) : 0
        guard let minutes, minutes < 60 else { return nil }
        let seconds = Int64(hours * 3600 + minutes * 60)
        return sign == UInt8(ascii: "-") ? -seconds : seconds
    }
}
