public import ReconCore

/// One line of a channel's bill in the shape every adapter produces (CHANNELS.md §0).
public struct BillLine: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case payment, refund
    }

    public var channel: String
    /// The bill's date, `YYYY-MM-DD`.
    public var billDate: LocalDay
    public var channelTransactionID: String
    /// On a refund, the payment's transaction id: the same as `channelTransactionID` where the
    /// channel repeats it (Alipay, WeChat Pay), the payment's queryId for a UnionPay refund (which
    /// has a queryId of its own), nil where the bill does not say (bank files).
    public var originalTransactionID: String?
    public var merchantOrderID: String?
    public var refundID: String?
    public var kind: Kind
    /// Signed fen: payments positive, refunds negative.
    public var amountFen: Int64
    /// Fen charged to us positive, given back negative.
    public var feeFen: Int64
    public var channelStatus: String?
    /// Microseconds since 1970 (the bill's local time with its offset applied).
    public var timeMicroseconds: Int64
    /// The line in the bill file it came from, for every message about it.
    public var lineNumber: Int
    /// Set when a "flag" check (CHANNELS.md §6) failed: the line is staged all the same, and the
    /// discrepancy report shows it with this reason, e.g. "完成时间 … is outside 2026-11-23".
    public var flag: String?

    public init(
        channel: String, billDate: LocalDay, channelTransactionID: String, originalTransactionID: String? = nil,
        merchantOrderID: String?, refundID: String?, kind: Kind, amountFen: Int64, feeFen: Int64,
        channelStatus: String?, timeMicroseconds: Int64, lineNumber: Int, flag: String? = nil
    ) {
        self.channel = channel
        self.billDate = billDate
        self.channelTransactionID = channelTransactionID
        self.originalTransactionID = originalTransactionID
        self.merchantOrderID = merchantOrderID
        self.refundID = refundID
        self.kind = kind
        self.amountFen = amountFen
        self.feeFen = feeFen
        self.channelStatus = channelStatus
        self.timeMicroseconds = timeMicroseconds
        self.lineNumber = lineNumber
        self.flag = flag
    }
}

extension BillLine {
    /// Whether the line's time lies outside its bill's day (one of its flags says so).
    public var isOutsideTheDay: Bool { flag?.contains(DayWindow.outside) ?? false }
}
