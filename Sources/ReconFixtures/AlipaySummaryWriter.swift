public import ReconBills
public import ReconCore

/// Writes Alipay's `业务明细(汇总).csv` (CHANNELS.md §1.4): GBK, the `#` frame, the header and the
/// 合计 row, whose amounts are net of refunds (Σ of every detail row, as the mock assumes) and
/// whose 服务费 is in Alipay's sign.
public struct AlipaySummaryWriter {
    public static let header =
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）"

    public let accountID: String
    public let day: LocalDay
    private let exportedAt: Int64
    private var out: BillByteSink
    private var trades = 0
    private var refunds = 0
    private var amount: Int64 = 0
    private var serviceFee: Int64 = 0

    public init(accountID: String, day: LocalDay, exportedAt: Int64? = nil, sink: @escaping ([UInt8]) throws -> Void)
        throws
    {
        self.accountID = accountID
        self.day = day
        self.exportedAt = exportedAt ?? AlipayDetailsWriter.defaultExportTime(day)
        out = BillByteSink(encoder: try TextEncoder(.gbk), sink: sink)
    }

    /// Counted only; the file is written by `finish`.
    public mutating func append(_ transaction: SyntheticTransaction) throws {
        if transaction.kind == .payment { trades += 1 } else { refunds += 1 }
        amount += transaction.amountFen
        serviceFee -= transaction.feeFen
    }

    public mutating func finish() throws {
        try out.line("#支付宝业务汇总查询")
        try out.line("#账号：[\(accountID)]")
        try out.line(Self.dateLine(day))
        try out.line("#-----------------------------------------业务汇总列表----------------------------------------")
        try out.line(Self.header)
        let yuan = BillText.yuan(amount)
        try out.line(
            "合计,,\(trades),\(refunds),\(yuan),\(yuan),0.00,0.00,0.00,\(BillText.yuan(serviceFee)),0.00,"
                + BillText.yuan(amount + serviceFee))
        try out.line("#-----------------------------------------业务汇总列表结束------------------------------------")
        try out.line("#导出时间：[\(AlipayFrame.chineseText(exportedAt))]")
        try out.flush()
    }

    /// `#起始日期：[D 00:00:00]   终止日期：[D+1 00:00:00]`.
    static func dateLine(_ day: LocalDay) -> String {
        let start = BillText.midnight(day)
        return "#起始日期：[\(AlipayFrame.chineseText(start))]   终止日期：[\(AlipayFrame.chineseText(start + 86_400))]"
    }
}
