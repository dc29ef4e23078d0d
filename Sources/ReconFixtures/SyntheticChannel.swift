public import ReconMatching

/// One `[[channel]]` of a synthetic day: its name (what the payments file's `channel` column
/// says), its adapter, and the merchant the mock files its bills under.
public struct SyntheticChannel: Sendable, Equatable {
    public enum Adapter: String, Sendable, Equatable, CaseIterable {
        case alipay, wechatpay, unionpay
        case bankCSV = "bank_csv"
    }

    public var name: String
    public var adapter: Adapter
    /// The folder under `<data>/<adapter's folder>/`: Alipay's app_id, WeChat's mchid,
    /// UnionPay's merId, the bank file's `{merchant}`.
    public var merchant: String
    /// Alipay only: the partner id (PID); the bill's account is PID + `0156`.
    public var partnerID: String?

    public init(name: String, adapter: Adapter, merchant: String, partnerID: String? = nil) {
        self.name = name
        self.adapter = adapter
        self.merchant = merchant
        self.partnerID = partnerID
    }

    /// One channel of each adapter, with the merchants of `jobs/channels.toml.example`.
    public static let standard: [SyntheticChannel] = [
        SyntheticChannel(
            name: "alipay-main", adapter: .alipay, merchant: "2021000000000000", partnerID: "2088000000000000"),
        SyntheticChannel(name: "wechat-main", adapter: .wechatpay, merchant: "1900000000"),
        SyntheticChannel(name: "unionpay-main", adapter: .unionpay, merchant: "802310048993424"),
        SyntheticChannel(name: "bank-main", adapter: .bankCSV, merchant: "m-0042"),
    ]

    /// The account Alipay's bill names: the partner id and `0156`.
    public var alipayAccountID: String { (partnerID ?? "2088000000000000") + "0156" }

    /// How the channel keys its refunds (issue 12, §2): UnionPay refunds by their own queryId.
    public var keyRule: KeyRule { adapter == .unionpay ? .ownTransactionID : .sharedTransactionID }

    /// Whether a refund's line, and so its leg's `channel_txn_id`, carries an id of its own
    /// (UnionPay's queryId, the bank's line id) rather than repeating the payment's.
    public var refundHasOwnTransactionID: Bool { adapter == .unionpay || adapter == .bankCSV }

    /// The folder of the mock's data the bills go to: `alipay`, `wechatpay`, `unionpay`, `bank`.
    public var dataFolder: String { adapter == .bankCSV ? "bank" : adapter.rawValue }
}
