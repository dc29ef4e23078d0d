/// A payment leg's words, as the payments file writes them (issue 12, §1).
public enum LegKind: String, Sendable, CaseIterable, Codable {
    /// Paid through one configured channel; reconciled against that channel's bill.
    case channel
    /// Virtual-account assets, reconciled against the virtual-account ledger.
    case preDeposit = "pre_deposit"
    case points
    case dataTraffic = "data_traffic"

    public var isVirtual: Bool { self != .channel }
}

public enum LegDirection: String, Sendable, CaseIterable, Codable {
    case payment, refund

    /// Amounts and fees are written as magnitudes; a refund's count negative.
    public func signed(_ magnitude: Int64) -> Int64 { self == .refund ? -magnitude : magnitude }
}

public enum LegStatus: String, Sendable, CaseIterable, Codable {
    case success, failed, pending, closed

    /// Whether we believe money moved (a pending leg has not moved yet: if the channel says it
    /// did, that is a status mismatch to look at).
    public var movedMoney: Bool { self == .success }
}
