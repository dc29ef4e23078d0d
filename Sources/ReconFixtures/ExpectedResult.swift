public import ReconCore
public import ReconMatching

/// What reconciling a synthetic day must say of one item: a bill line and a leg with one key (or
/// either alone), or a virtual leg and its ledger entry (or either alone).
public struct ExpectedResult: Sendable, Equatable, Hashable {
    /// The `[[channel]]` name; for a virtual-account item, the asset (`pre_deposit`, `points`,
    /// `data_traffic`).
    public var channel: String
    /// The day being reconciled: an item carried over from the day before and resolved on this
    /// day has this day's date.
    public var billDate: LocalDay
    /// The match key's transaction id; for a virtual item, the leg id the leg or entry names.
    public var channelTxnID: String
    /// `match_refund_key`: the refund request id for Alipay, WeChat Pay and bank refunds, "" otherwise.
    public var refundKey: String
    public var legID: String?
    /// Virtual items only: the ledger entry.
    public var entryID: String?
    public var status: MatchStatus
    /// The bill line's signed amount; for a virtual item, the ledger entry's.
    public var channelAmountFen: Int64?
    public var internalAmountFen: Int64?
    /// The bill line's normalized fee ("+ charged, − given back", fen); nil for virtual items.
    public var channelFeeFen: Int64?
    public var internalFeeFen: Int64?
    public var businessSystem: String?
    public var merchantID: String?
    public var legStatus: LegStatus?

    public init(
        channel: String, billDate: LocalDay, channelTxnID: String, refundKey: String, legID: String?,
        entryID: String? = nil, status: MatchStatus, channelAmountFen: Int64?, internalAmountFen: Int64?,
        channelFeeFen: Int64?, internalFeeFen: Int64?, businessSystem: String?, merchantID: String?,
        legStatus: LegStatus?
    ) {
        self.channel = channel
        self.billDate = billDate
        self.channelTxnID = channelTxnID
        self.refundKey = refundKey
        self.legID = legID
        self.entryID = entryID
        self.status = status
        self.channelAmountFen = channelAmountFen
        self.internalAmountFen = internalAmountFen
        self.channelFeeFen = channelFeeFen
        self.internalFeeFen = internalFeeFen
        self.businessSystem = businessSystem
        self.merchantID = merchantID
        self.legStatus = legStatus
    }

    /// Whether the item is a virtual-account one (its `channel` names an asset).
    public var isVirtual: Bool { LegKind(rawValue: channel)?.isVirtual == true }

    public static let csvHeader =
        "channel,bill_date,channel_txn_id,refund_key,leg_id,entry_id,status,channel_amount_fen,internal_amount_fen,channel_fee_fen,internal_fee_fen,business_system,merchant_id,leg_status"

    /// One CSV row (no line end); absent values are empty fields.
    public var csvLine: String {
        func text(_ value: Int64?) -> String { value.map(String.init) ?? "" }
        return [
            channel, billDate.description, channelTxnID, refundKey, legID ?? "", entryID ?? "", status.rawValue,
            text(channelAmountFen), text(internalAmountFen), text(channelFeeFen), text(internalFeeFen),
            businessSystem ?? "", merchantID ?? "", legStatus?.rawValue ?? "",
        ].joined(separator: ",")
    }
}
