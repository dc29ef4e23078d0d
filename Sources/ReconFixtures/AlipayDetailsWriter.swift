public import ReconBills
public import ReconCore

/// Writes Alipay's `_业务明细.csv` as CHANNELS.md §1.3 shows it: GBK, CRLF, the `#` frame, the
/// 25-column header, rows with Alipay's trailing TABs, fees in Alipay's sign (negative when
/// charged), both footers and the export time.
public struct AlipayDetailsWriter {
    public static let startMarker =
        "#-----------------------------------------业务明细列表----------------------------------------"
    public static let endMarker =
        "#-----------------------------------------业务明细列表结束------------------------------------"

    public let accountID: String
    public let day: LocalDay
    private let exportedAt: Int64
    private var out: BillByteSink
    private var wroteHeader = false
    private var counts: [BillLine.Kind: (count: Int, fen: Int64)] = [:]

    /// When Alipay's example exports the day's files: 06:02:17 the next morning, Beijing local seconds.
    static func defaultExportTime(_ day: LocalDay) -> Int64 {
        BillText.midnight(day) + 86_400 + 6 * 3600 + 2 * 60 + 17
    }

    /// `exportedAt` is Beijing local seconds; by default `defaultExportTime`.
    public init(accountID: String, day: LocalDay, exportedAt: Int64? = nil, sink: @escaping ([UInt8]) throws -> Void)
        throws
    {
        self.accountID = accountID
        self.day = day
        self.exportedAt = exportedAt ?? Self.defaultExportTime(day)
        out = BillByteSink(encoder: try TextEncoder(.gbk), sink: sink)
    }

    public mutating func append(_ transaction: SyntheticTransaction) throws {
        try writeHeader()
        let payment = transaction.kind == .payment
        let amount = BillText.yuan(transaction.amountFen)
        let fields = [
            transaction.channelTransactionID + "\t", transaction.merchantOrderID + "\t", (payment ? "交易" : "退款") + "\t",
            transaction.subject, LocalTime.text(transaction.createdLocalSeconds), BillText.time(transaction), "\t",
            "\t", "\t",
            "\t", "*三(138****0000)\t", amount, amount, "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00\t", "0.00",
            (transaction.refundID ?? "") + "\t", BillText.yuan(-transaction.feeFen), "0.00", "",
        ]
        try out.line(fields.joined(separator: ","))
        counts[transaction.kind, default: (0, 0)].count += 1
        counts[transaction.kind, default: (0, 0)].fen += transaction.amountFen
    }

    public mutating func finish() throws {
        try writeHeader()
        let payments = counts[.payment] ?? (0, 0)
        let refunds = counts[.refund] ?? (0, 0)
        try out.line(Self.endMarker)
        try out.line("#交易合计：\(payments.count)笔，商家实收共\(BillText.yuan(payments.fen))元，商家优惠共0.00元")
        try out.line("#退款合计：\(refunds.count)笔，商家实收退款共\(BillText.yuan(refunds.fen))元，商家优惠退款共0.00元")
        try out.line("#导出时间：[\(AlipayFrame.chineseText(exportedAt))]")
        try out.flush()
    }

    private mutating func writeHeader() throws {
        guard !wroteHeader else { return }
        wroteHeader = true
        try out.line("#支付宝业务明细查询")
        try out.line("#账号：[\(accountID)]")
        try out.line(AlipaySummaryWriter.dateLine(day))
        try out.line(Self.startMarker)
        try out.line(AlipayDetailsLayout.header.joined(separator: ","))
    }
}
