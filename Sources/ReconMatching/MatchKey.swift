/// What a bill line and a payment leg meet on (issue 12, §2): the channel's transaction number,
/// and for a refund on a channel that repeats the payment's number on its refund rows (Alipay,
/// WeChat Pay, bank files), the refund request id as well. A UnionPay refund has a queryId of its
/// own, so its key is that id alone. A payment's refund part is empty.
public struct MatchKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var transactionID: String
    public var refundID: String

    public init(transactionID: String, refundID: String = "") {
        self.transactionID = transactionID
        self.refundID = refundID
    }

    /// The key under `rule` for a line or leg with these ids.
    public init(transactionID: String, refundID: String?, isRefund: Bool, rule: KeyRule) {
        self.transactionID = transactionID
        self.refundID = isRefund && rule.refundsCarryRefundID ? (refundID ?? "") : ""
    }

    /// Equal bytes, as PostgreSQL compares text: Swift's `==` on `String` would call a precomposed
    /// "é" equal to a decomposed one, which the server (and the channel) hold apart.
    public static func == (lhs: MatchKey, rhs: MatchKey) -> Bool {
        lhs.transactionID.utf8.elementsEqual(rhs.transactionID.utf8)
            && lhs.refundID.utf8.elementsEqual(rhs.refundID.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        for byte in transactionID.utf8 { hasher.combine(byte) }
        hasher.combine(0xFF as UInt8)  // not a UTF-8 byte: separates the two parts
        for byte in refundID.utf8 { hasher.combine(byte) }
    }

    /// Byte order of the UTF-8, as PostgreSQL sorts under `COLLATE "C"`: the reconcile streams
    /// both sides in that order and merges them.
    public static func < (lhs: MatchKey, rhs: MatchKey) -> Bool {
        if !lhs.transactionID.utf8.elementsEqual(rhs.transactionID.utf8) {
            return lhs.transactionID.utf8.lexicographicallyPrecedes(rhs.transactionID.utf8)
        }
        return lhs.refundID.utf8.lexicographicallyPrecedes(rhs.refundID.utf8)
    }

    public var description: String { refundID.isEmpty ? transactionID : "\(transactionID)/\(refundID)" }

    /// The shard of this key among `count`: refunds that share their payment's transaction id land
    /// in its shard. Stable across processes, machines and releases (FNV-1a, not Swift's seeded
    /// `Hasher`).
    public func shard(of count: Int) -> Int { Self.shard(transactionID: transactionID, of: count) }

    public static func shard(transactionID: String, of count: Int) -> Int {
        precondition(count > 0, "a shard count is at least 1")
        return Int(keyHash(transactionID) % Int64(count))
    }

    /// FNV-1a over the UTF-8 bytes, cut to 63 bits: never negative, so PostgreSQL keeps it in a
    /// `bigint` column and `key_hash % n` there selects the same shard as `shard(of:)` here.
    public static func keyHash(_ transactionID: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in transactionID.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash & 0x7fff_ffff_ffff_ffff)
    }
}

/// How a channel keys its refunds (issue 12, §2 table).
public struct KeyRule: Sendable, Equatable {
    /// True where refund rows repeat the payment's transaction id and the refund request id tells
    /// refunds apart (Alipay, WeChat Pay, bank files); false where a refund has an id of its own
    /// (UnionPay's queryId).
    public var refundsCarryRefundID: Bool

    public init(refundsCarryRefundID: Bool) { self.refundsCarryRefundID = refundsCarryRefundID }

    public static let sharedTransactionID = KeyRule(refundsCarryRefundID: true)
    public static let ownTransactionID = KeyRule(refundsCarryRefundID: false)
}
