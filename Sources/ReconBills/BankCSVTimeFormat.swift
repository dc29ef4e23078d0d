public import ReconCore

/// A bank file's time layout as a strftime subset: `%Y` (4 digits), `%m %d %H %M %S` (1 or 2
/// digits), `%%` and literal text. An offset after the time (`Z`, `+08:00`) wins over the
/// profile's zone.
public struct BankCSVTimeFormat: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(UInt8)
        case year, month, day, hour, minute, second
    }

    public let pattern: String
    let tokens: [Token]

    public static let standard = BankCSVTimeFormat(tokens: "%Y-%m-%d %H:%M:%S")

    /// For the built-in patterns, known to be valid.
    private init(tokens pattern: String) {
        self.pattern = pattern
        self.tokens = (try? Self.tokens(pattern)) ?? []
    }

    public init(_ pattern: String) throws(BankCSVProfile.Problem) {
        self.pattern = pattern
        tokens = try Self.tokens(pattern)
    }

    private static func tokens(_ pattern: String) throws(BankCSVProfile.Problem) -> [Token] {
        func refuse(_ message: String) -> BankCSVProfile.Problem {
            BankCSVProfile.Problem(key: "time_format", message: message)
        }
        var tokens: [Token] = []
        var bytes = Array(pattern.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                tokens.append(.literal(byte))
                continue
            }
            switch bytes.popFirst().map({ Character(Unicode.Scalar($0)) }) {
            case "Y": tokens.append(.year)
            case "m": tokens.append(.month)
            case "d": tokens.append(.day)
            case "H": tokens.append(.hour)
            case "M": tokens.append(.minute)
            case "S": tokens.append(.second)
            case "%": tokens.append(.literal(UInt8(ascii: "%")))
            case let other:
                throw refuse(
                    "%\(other.map(String.init) ?? "") is not supported: only %Y %m %d %H %M %S, %% and literal text")
            }
        }
        for needed in [Token.year, .month, .day] where !tokens.contains(needed) {
            throw refuse("\"\(pattern)\" has no \(needed == .year ? "%Y" : needed == .month ? "%m" : "%d")")
        }
        return tokens
    }

    /// The pattern as people read it, for messages: `yyyy-MM-dd HH:mm:ss`.
    public var readable: String {
        var text: [UInt8] = []
        for token in tokens {
            switch token {
            case .literal(let byte): text.append(byte)
            case .year: text += Array("yyyy".utf8)
            case .month: text += Array("MM".utf8)
            case .day: text += Array("dd".utf8)
            case .hour: text += Array("HH".utf8)
            case .minute: text += Array("mm".utf8)
            case .second: text += Array("ss".utf8)
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The wall time as seconds since 1970 read as UTC, and the offset if the value carries one.
    func parse(_ text: String) -> (localSeconds: Int64, offsetSeconds: Int64?)? {
        let bytes = Array(text.utf8)
        var index = 0
        var parts = (year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0)
        func digits(_ minimum: Int, _ maximum: Int) -> Int? {
            var value = 0
            var count = 0
            while count < maximum, index < bytes.count, (48...57).contains(bytes[index]) {
                value = value * 10 + Int(bytes[index] - 48)
                index += 1
                count += 1
            }
            return count >= minimum ? value : nil
        }
        for token in tokens {
            switch token {
            case .literal(let byte):
                guard index < bytes.count, bytes[index] == byte else { return nil }
                index += 1
            case .year: guard let value = digits(4, 4) else { return nil }; parts.year = value
            case .month: guard let value = digits(1, 2) else { return nil }; parts.month = value
            case .day: guard let value = digits(1, 2) else { return nil }; parts.day = value
            case .hour: guard let value = digits(1, 2) else { return nil }; parts.hour = value
            case .minute: guard let value = digits(1, 2) else { return nil }; parts.minute = value
            case .second: guard let value = digits(1, 2) else { return nil }; parts.second = value
            }
        }
        var offset: Int64?
        if index < bytes.count {
            guard let parsed = UTCOffset.parseOffset(bytes[index...]) else { return nil }
            offset = parsed
        }
        guard
            let seconds = LocalTime.seconds(
                year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute,
                second: parts.second)
        else { return nil }
        return (seconds, offset)
    }
}
