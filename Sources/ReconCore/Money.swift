/// Money is an integer number of fen (1/100 yuan) in an `Int64`. Bills write yuan as decimal
/// text; this turns that text into fen exactly, never through a floating-point number.
public enum Money {
    /// Why a money text was refused; the caller adds the file, line and column.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public var description: String { "\"\(text)\" is not an amount in yuan: \(reason)" }

        public init(text: String, reason: String) {
            self.text = text
            self.reason = reason
        }
    }

    /// `"12.34"` → 1234, `"12.3"` → 1230, `"-20.00"` → -2000, `"50"` → 5000. At most two decimals;
    /// no exponent, no thousands separator, no spaces, no leading `+`.
    public static func fen(fromYuan text: some StringProtocol) throws(ParseError) -> Int64 {
        try scaled(text, decimals: 2)
    }

    /// Yuan with up to `decimals` places as an integer count of 10^-decimals yuan: WeChat Pay's fee
    /// has five (`"0.30000"` → 30000 units of 0.00001 yuan), checked against its total in those units
    /// before each row is rounded to fen.
    public static func scaled(_ text: some StringProtocol, decimals: Int) throws(ParseError) -> Int64 {
        let original = String(text)
        func refuse(_ reason: String) -> ParseError { ParseError(text: original, reason: reason) }
        var bytes = Substring(original).utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty else { throw refuse("it has no digits") }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenPoint = false
        var wholeDigits = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int64(byte - UInt8(ascii: "0"))
                if seenPoint {
                    fractionDigits += 1
                    guard fractionDigits <= decimals else {
                        throw refuse("it has more than \(decimals) decimal places")
                    }
                    fraction = fraction * 10 + digit
                } else {
                    wholeDigits += 1
                    let (times, overflow1) = whole.multipliedReportingOverflow(by: 10)
                    let (plus, overflow2) = times.addingReportingOverflow(digit)
                    guard !overflow1, !overflow2 else { throw refuse("it is too large") }
                    whole = plus
                }
            case UInt8(ascii: "."):
                guard !seenPoint else { throw refuse("it has two decimal points") }
                seenPoint = true
            case UInt8(ascii: ","): throw refuse("a comma is not allowed (no thousands separators or decimal commas)")
            case UInt8(ascii: "e"), UInt8(ascii: "E"): throw refuse("exponents are not allowed")
            default: throw refuse("it contains '\(Character(Unicode.Scalar(byte)))'")
            }
        }
        guard wholeDigits > 0 else { throw refuse("it has no digits before the decimal point") }
        guard !seenPoint || fractionDigits > 0 else { throw refuse("it has no digits after the decimal point") }
        for _ in fractionDigits..<decimals { fraction *= 10 }
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let (units, overflow1) = whole.multipliedReportingOverflow(by: scale)
        let (total, overflow2) = units.addingReportingOverflow(fraction)
        guard !overflow1, !overflow2 else { throw refuse("it is too large") }
        return negative ? -total : total
    }

    /// Rounds an amount in 10^-decimals yuan to fen, half away from zero (0.125 → 0.13, −0.125 → −0.13).
    public static func roundToFen(_ units: Int64, decimals: Int) -> Int64 {
        guard decimals > 2 else {
            var value = units
            for _ in decimals..<2 { value *= 10 }
            return value
        }
        var divisor: Int64 = 1
        for _ in 0..<(decimals - 2) { divisor *= 10 }
        let (quotient, remainder) = units.quotientAndRemainder(dividingBy: divisor)
        if remainder.magnitude * 2 >= divisor.magnitude { return quotient + (units < 0 ? -1 : 1) }
        return quotient
    }

    /// `1234` → `"12.34"`, `-5` → `"-0.05"`: for reports and messages.
    public static func yuanText(fen: Int64) -> String {
        let magnitude = fen.magnitude
        let cents = magnitude % 100
        return (fen < 0 ? "-" : "") + String(magnitude / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
    }
}
