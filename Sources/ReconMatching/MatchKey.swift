import Crypto

/// What a bill line and a payment leg meet on (issue 12, §2): the channel's transaction number,
/// and for a refund on a channel that repeats the payment's number on its refund rows (Alipay,
/// WeChat Pay, bank files), the refund request id as well. A UnionPay refund has a queryId of its
/// own, so its key is that id alone. A payment's refund part is empty.
public struct MatchKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let transactionID: String
    public let refundID: String
    /// `keyHash(transactionID)`, kept: the reconcile's merge order and its shards both start
    /// from it.
    public let keyHash: Int64

    public init(transactionID: String, refundID: String = "") {
        self.transactionID = transactionID
        self.refundID = refundID
        keyHash = Self.keyHash(transactionID)
    }

    /// The key under `rule` for a line or leg with these ids.
    public init(transactionID: String, refundID: String?, isRefund: Bool, rule: KeyRule) {
        self.init(transactionID: transactionID, refundID: isRefund && rule.refundsCarryRefundID ? (refundID ?? "") : "")
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

    /// The order the reconcile merges in: `keyHash`, then the bytes. PostgreSQL gives each shard
    /// in this order straight off an index on `(key_hash, channel_txn_id, match_refund_key)`
    /// (COLLATE "C"), with no sort.
    public static func mergePrecedes(_ lhs: MatchKey, _ rhs: MatchKey) -> Bool {
        lhs.keyHash != rhs.keyHash ? lhs.keyHash < rhs.keyHash : lhs < rhs
    }

    /// The shard of this key among `count`: refunds that share their payment's transaction id land
    /// in its shard. Stable across processes, machines and releases (FNV-1a, not Swift's seeded
    /// `Hasher`).
    public func shard(of count: Int) -> Int { ShardRange.shard(ofHash: keyHash, among: count) }

    /// The first 8 bytes of the MD5 of the UTF-8, big-endian, top bit cleared: never negative, so
    /// PostgreSQL keeps it in a `bigint` and can compute it too (`KeyHashSQL`), and spread evenly
    /// over [0, 2^63) even for ids that differ only in their last digits, so that equal hash
    /// ranges (`ShardRange`) make equal shards. Stable across processes, machines and releases
    /// (not Swift's seeded `Hasher`). MD5 here is a spreader, not a guard against anyone.
    public static func keyHash(_ transactionID: String) -> Int64 {
        let digest = Insecure.MD5.hash(data: Array(transactionID.utf8))
        var hash: UInt64 = 0
        for byte in digest.prefix(8) { hash = hash << 8 | UInt64(byte) }
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

/// Shard i of n holds the keys whose `keyHash` lies in the i-th of n equal ranges of
/// [0, 2^63): a range, not `hash % n`, so each shard reads its own stretch of an index that
/// starts with the hash, instead of every shard reading the whole day and dropping most of it.
public struct ShardRange: Sendable, Equatable, CustomStringConvertible {
    public let shard: Int
    public let shards: Int
    /// The first and last hash of the shard, both inclusive.
    public let lowerHash: Int64
    public let upperHash: Int64

    public init(shard: Int, of shards: Int) {
        precondition(shards > 0 && (0..<shards).contains(shard), "shard \(shard) of \(shards)")
        self.shard = shard
        self.shards = shards
        let width = Self.width(shards)
        lowerHash = Int64(width * UInt64(shard))
        upperHash = shard == shards - 1 ? Int64.max : Int64(width * UInt64(shard + 1) - 1)
    }

    /// 2^63 / shards, rounded up: counted in UInt64, where 2^63 fits.
    private static func width(_ shards: Int) -> UInt64 {
        let space = UInt64(1) << 63
        return space / UInt64(shards) + (space % UInt64(shards) == 0 ? 0 : 1)
    }

    public func contains(_ hash: Int64) -> Bool { hash >= lowerHash && hash <= upperHash }

    public static func shard(ofHash hash: Int64, among shards: Int) -> Int {
        precondition(shards > 0, "a shard count is at least 1")
        return Swift.min(Int(UInt64(Swift.max(hash, 0)) / width(shards)), shards - 1)
    }

    public var description: String { "\(shard)/\(shards)" }
}

/// `MatchKey.keyHash` in SQL, for a text expression: what migrations use to recompute stored
/// hashes, and what tests compare the Swift side with.
public enum KeyHashSQL {
    public static func of(_ expression: String) -> String {
        "(('x' || substr(md5(\(expression)), 1, 16))::bit(64)::bigint & 9223372036854775807)"
    }
}
