public import ReconBills
import ReconCalendar
public import ReconCore

/// One generated transaction, with everything any channel's bill writes about it, for the mock
/// channel server and the round-trip tests.
public struct SyntheticTransaction: Sendable, Equatable {
    /// 1-based position in the bill (UnionPay's trace number).
    public var sequence: Int
    public var kind: BillLine.Kind
    /// The payment's channel id; a refund repeats its payment's.
    public var channelTransactionID: String
    public var merchantOrderID: String
    /// The merchant's refund id (refunds only).
    public var refundID: String?
    /// The channel's own id for a refund: WeChat's 微信退款单号, UnionPay's refund queryId, the bank's line id.
    public var channelRefundID: String?
    /// Signed fen: payments positive, refunds negative.
    public var amountFen: Int64
    /// The fee in 1e-5 yuan (WeChat's precision), charged positive, given back negative.
    public var feeUnits: Int64
    /// When it happened (for a refund, the refund), µs since 1970.
    public var timeMicroseconds: Int64
    /// When the payment was created (Alipay's 创建时间; a refund keeps its payment's).
    public var createdMicroseconds: Int64
    /// Non-ASCII text, within GBK.
    public var subject: String
    /// Stands for the payer (WeChat's openid).
    public var payerNumber: Int

    public init(
        sequence: Int, kind: BillLine.Kind, channelTransactionID: String, merchantOrderID: String, refundID: String?,
        channelRefundID: String?, amountFen: Int64, feeUnits: Int64, timeMicroseconds: Int64,
        createdMicroseconds: Int64,
        subject: String, payerNumber: Int
    ) {
        self.sequence = sequence
        self.kind = kind
        self.channelTransactionID = channelTransactionID
        self.merchantOrderID = merchantOrderID
        self.refundID = refundID
        self.channelRefundID = channelRefundID
        self.amountFen = amountFen
        self.feeUnits = feeUnits
        self.timeMicroseconds = timeMicroseconds
        self.createdMicroseconds = createdMicroseconds
        self.subject = subject
        self.payerNumber = payerNumber
    }

    /// The fee as every channel but WeChat writes it, and as every parser stages it: rounded
    /// half away from zero to fen.
    public var feeFen: Int64 { Money.roundToFen(feeUnits, decimals: 5) }

    /// Beijing wall time as seconds since 1970 read as UTC, for the writers.
    var localSeconds: Int64 {
        CivilCalendar.floorDivide(timeMicroseconds, by: 1_000_000) + LocalTime.beijingOffsetSeconds
    }
    var createdLocalSeconds: Int64 {
        CivilCalendar.floorDivide(createdMicroseconds, by: 1_000_000) + LocalTime.beijingOffsetSeconds
    }
}

/// What a generated bill adds up to, for comparing with what a parser read back.
public struct SyntheticTruth: Sendable, Equatable {
    public var count: Int64 = 0
    public var payments: Int64 = 0
    public var refunds: Int64 = 0
    public var amountFen: Int64 = 0
    /// Σ of each transaction's fee rounded to fen.
    public var feeFen: Int64 = 0
    /// Σ of the exact fees in 1e-5 yuan.
    public var feeUnits: Int64 = 0

    public init() {}

    public mutating func add(_ transaction: SyntheticTransaction) {
        count += 1
        if transaction.kind == .payment { payments += 1 } else { refunds += 1 }
        amountFen += transaction.amountFen
        feeFen += transaction.feeFen
        feeUnits += transaction.feeUnits
    }

    /// What WeChat's parser reports as `feeRoundingUnits`.
    public var feeRoundingUnits: Int64 { feeUnits - feeFen * 1000 }
}
