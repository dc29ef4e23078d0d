/// What reconciliation says of one item: exactly these words, which reports, CSV files and other
/// systems read (issue 12, "Result statuses").
public enum MatchStatus: String, Sendable, CaseIterable, Comparable, Codable {
    case matched
    case amountMismatch = "amount_mismatch"
    case statusMismatch = "status_mismatch"
    case feeMismatch = "fee_mismatch"
    case channelOnly = "channel_only"
    case internalOnly = "internal_only"
    case carriedOver = "carried_over"

    /// Everything but `matched` is something for a person to look at (carried_over only until the
    /// next day's reconciliation says what became of it).
    public var isDiscrepancy: Bool { self != .matched }

    /// Reports list statuses in this order.
    public static func < (lhs: MatchStatus, rhs: MatchStatus) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
