import ReconCore

/// How the dashboard writes figures: yuan with two decimals and thousands grouped, counts grouped.
/// Exact: from fen, with integer arithmetic only.
enum DashboardText {
    static func yuan(_ fen: Int64?) -> String {
        guard let fen else { return "" }
        let plain = Money.yuanText(fen: fen)
        let negative = plain.hasPrefix("-")
        let digits = negative ? plain.dropFirst() : Substring(plain)
        let parts = digits.split(separator: ".", maxSplits: 1)
        return (negative ? "-" : "") + grouped(String(parts[0])) + (parts.count > 1 ? "." + parts[1] : "")
    }

    static func count(_ value: Int64) -> String {
        value < 0 ? "-" + grouped(String(value.magnitude)) : grouped(String(value))
    }

    /// A share in basis points (matched·10000/items, rounded down), as `99.87%`.
    static func share(basisPoints: Int64) -> String {
        "\(basisPoints / 100).\(basisPoints % 100 < 10 ? "0" : "")\(basisPoints % 100)%"
    }

    private static func grouped(_ digits: String) -> String {
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}
