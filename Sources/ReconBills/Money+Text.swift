public import ReconCore

extension Money {
    /// Units of 10^-decimals yuan as decimal text: `(30_000, 5)` → `"0.30000"`, `(-12, 2)` → `"-0.12"`.
    package static func text(units: Int64, decimals: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let magnitude = units.magnitude
        let fraction = String(magnitude % scale)
        let padded = String(repeating: "0", count: decimals - fraction.count) + fraction
        return (units < 0 ? "-" : "") + String(magnitude / scale) + (decimals > 0 ? "." + padded : "")
    }

    /// Exactly two decimals, as Alipay writes every amount (CHANNELS.md §6, Amounts).
    package static func fen(fromExactlyTwoDecimals text: some StringProtocol) throws(ParseError) -> Int64 {
        let bytes = Array(text.utf8)
        guard bytes.count >= 4, bytes[bytes.count - 3] == UInt8(ascii: ".") else {
            throw ParseError(text: String(text), reason: "it does not have exactly 2 decimal places")
        }
        return try fen(fromYuan: text)
    }
}
