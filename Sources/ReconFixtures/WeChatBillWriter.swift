public import ReconBills
public import ReconCore

/// Writes a WeChat Pay v3 `ALL` trade bill byte for byte as CHANNELS.md §2.3–2.4: UTF-8, CRLF
/// after every line, backtick fields, then the totals header and the totals line.
public struct WeChatBillWriter {
    public let merchantID: String
    public let appID: String
    private var out: BillByteSink
    private var wroteHeader = false
    private var truth = SyntheticTruth()
    /// 应结订单金额, 退款金额, 订单金额 and 申请退款金额 sums in fen.
    private var settled: Int64 = 0
    private var refunded: Int64 = 0
    private var ordered: Int64 = 0
    private var requested: Int64 = 0

    public init(merchantID: String, appID: String = "wx0000000000000000", sink: @escaping ([UInt8]) throws -> Void) {
        self.merchantID = merchantID
        self.appID = appID
        out = BillByteSink(encoder: .utf8, sink: sink)
    }

    public mutating func append(_ transaction: SyntheticTransaction) throws {
        try writeHeader()
        let payment = transaction.kind == .payment
        let amount = BillText.yuan(abs(transaction.amountFen))
        let fields = [
            BillText.time(transaction), appID, merchantID, "0", "", transaction.channelTransactionID,
            transaction.merchantOrderID, "oSYNTHETIC" + LocalTime.pad(transaction.payerNumber, 16), "JSAPI",
            payment ? "SUCCESS" : "REFUND", "OTHERS", "CNY", payment ? amount : "0.00", "0.00",
            payment ? "0" : transaction.channelRefundID ?? "", payment ? "0" : transaction.refundID ?? "",
            payment ? "0.00" : amount, "0.00", payment ? "" : "ORIGINAL", payment ? "" : "SUCCESS", transaction.subject,
            "",
            Money.text(units: transaction.feeUnits, decimals: 5), "0.60%", payment ? amount : "0.00",
            payment ? "0.00" : amount, "",
        ]
        try out.line("`" + fields.joined(separator: ",`"))
        truth.add(transaction)
        if payment {
            settled += transaction.amountFen
            ordered += transaction.amountFen
        } else {
            refunded -= transaction.amountFen
            requested -= transaction.amountFen
        }
    }

    /// Writes the totals and hands over the last bytes.
    public mutating func finish() throws {
        try writeHeader()
        try out.line(WeChatBillLayout.totalsHeader.joined(separator: ","))
        let totals = [
            String(truth.count), BillText.yuan(settled), BillText.yuan(refunded), "0.00",
            Money.text(units: truth.feeUnits, decimals: 5), BillText.yuan(ordered), BillText.yuan(requested),
        ]
        try out.line("`" + totals.joined(separator: ",`"))
        try out.flush()
    }

    private mutating func writeHeader() throws {
        guard !wroteHeader else { return }
        wroteHeader = true
        try out.line(WeChatBillLayout.all.joined(separator: ","))
    }
}
