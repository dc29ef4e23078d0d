/// Numbers and booleans from their source text, with TOML's exact rules: underscores only
/// between digits, no leading zeros, no sign on hex/octal/binary, 64-bit range checked.
///
/// Strict because a job file is read by people and machines alike: `retry.base = 1_000` must
/// mean one thing, and `010` (octal to some readers) is refused rather than guessed.
enum TOMLScalar {
    struct Problem: Error {
        let message: String
    }

    static func parse(_ token: String) throws(Problem) -> TOMLValue {
        let bytes = Array(token.utf8)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .float(.infinity, text: token)
        case "-inf": return .float(-.infinity, text: token)
        case "nan", "+nan", "-nan": return .float(.nan, text: token)
        default: break
        }
        if isDateLike(bytes) {
            throw Problem(message: "date-time values are not supported; write the time as a string")
        }
        guard let first = bytes.first,
            isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: ".")
        else {
            throw Problem(message: "invalid value `\(token)`; strings must be in quotes")
        }
        let negative = first == UInt8(ascii: "-")
        let unsigned = first == UInt8(ascii: "+") || negative ? Array(bytes.dropFirst()) : bytes
        if unsigned.count > 2 && unsigned[0] == UInt8(ascii: "0"),
            let radix = radix(of: unsigned[1])
        {
            guard unsigned.count == bytes.count else {
                throw Problem(message: "invalid number `\(token)`: hex, octal and binary integers take no sign")
            }
            return .integer(try integer(Array(unsigned.dropFirst(2)), radix: radix, negative: false, token: token))
        }
        if unsigned.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return try float(unsigned, token: token)
        }
        try checkDecimalPart(unsigned, token: token)
        return .integer(try integer(unsigned, radix: 10, negative: negative, token: token))
    }

    /// `1979-05-27…` or `07:32:00`: TOML dates and times, which job files do not use.
    private static func isDateLike(_ bytes: [UInt8]) -> Bool {
        if bytes.count >= 5 && bytes[0..<4].allSatisfy(isDigit) && bytes[4] == UInt8(ascii: "-") {
            return true
        }
        return bytes.count >= 3 && bytes[0..<2].allSatisfy(isDigit) && bytes[2] == UInt8(ascii: ":")
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func radix(of byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "x"): 16
        case UInt8(ascii: "o"): 8
        case UInt8(ascii: "b"): 2
        default: nil
        }
    }

    /// Digits of `radix`, with single underscores only between digits.
    private static func isDigitRun(_ bytes: ArraySlice<UInt8>, radix: UInt64) -> Bool {
        guard let first = bytes.first, let last = bytes.last,
            digitValue(first, radix: radix) != nil, digitValue(last, radix: radix) != nil
        else { return false }
        var previousWasUnderscore = false
        for byte in bytes {
            if byte == UInt8(ascii: "_") {
                if previousWasUnderscore { return false }
                previousWasUnderscore = true
            } else if digitValue(byte, radix: radix) == nil {
                return false
            } else {
                previousWasUnderscore = false
            }
        }
        return true
    }

    private static func digitValue(_ byte: UInt8, radix: UInt64) -> UInt64? {
        guard let value = TOMLParser.hexValue(byte).map(UInt64.init), value < radix else { return nil }
        return value
    }

    /// The integer part of a decimal number: digits, and no leading zero unless it is just `0`.
    private static func checkDecimalPart(_ bytes: [UInt8], token: String) throws(Problem) {
        guard isDigitRun(bytes[...], radix: 10) else {
            throw Problem(message: "invalid number `\(token)`")
        }
        if bytes.count > 1 && bytes[0] == UInt8(ascii: "0") {
            throw Problem(message: "invalid number `\(token)`: leading zeros are not allowed")
        }
    }

    private static func integer(
        _ digits: [UInt8], radix: UInt64, negative: Bool, token: String
    ) throws(Problem) -> Int64 {
        guard isDigitRun(digits[...], radix: radix) else {
            throw Problem(message: "invalid number `\(token)`")
        }
        var magnitude: UInt64 = 0
        for byte in digits where byte != UInt8(ascii: "_") {
            guard let digit = digitValue(byte, radix: radix) else { continue }
            let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: radix)
            let (sum, overflowAgain) = shifted.addingReportingOverflow(digit)
            guard !overflow && !overflowAgain else {
                throw Problem(message: "integer `\(token)` does not fit in 64 bits")
            }
            magnitude = sum
        }
        let limit = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        guard magnitude <= limit else {
            throw Problem(message: "integer `\(token)` does not fit in 64 bits")
        }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    /// `int.frac`, `int e exp` or `int.frac e exp`, each part digits with inner underscores.
    private static func float(_ unsigned: [UInt8], token: String) throws(Problem) -> TOMLValue {
        let invalid = Problem(message: "invalid number `\(token)`")
        let exponentIndex = unsigned.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let mantissa = unsigned[..<(exponentIndex ?? unsigned.endIndex)]
        let dot = mantissa.firstIndex(of: UInt8(ascii: "."))
        try checkDecimalPart(Array(mantissa[..<(dot ?? mantissa.endIndex)]), token: token)
        if let dot, !isDigitRun(mantissa[(dot + 1)...], radix: 10) {
            throw invalid
        }
        if let exponentIndex {
            var exponent = unsigned[(exponentIndex + 1)...]
            if let sign = exponent.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponent = exponent.dropFirst()
            }
            guard isDigitRun(exponent, radix: 10) else { throw invalid }
        }
        let cleaned = String(decoding: token.utf8.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        guard let value = Double(cleaned) else { throw invalid }
        return .float(value, text: token)
    }
}
