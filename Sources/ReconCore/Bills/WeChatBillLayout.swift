/// The column and totals names of WeChat Pay v3 trade bills (CHANNELS.md §2.3). Columns are found
/// by name, because the `ALL`, `SUCCESS` and `REFUND` bills differ.
enum WeChatBillLayout {
    /// `bill_type=ALL`, the one Recon asks for: 27 columns.
    static let all = [
        "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型", "交易状态", "付款银行",
        "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称",
        "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
    ]
    /// `REFUND` bills add these after 代金券金额.
    static let refundOnly = ["退款申请时间", "退款成功时间"]
    static let known = Set(all + refundOnly)
    /// Every layout has these.
    static let required = ["交易时间", "商户号", "微信订单号", "商户订单号", "交易状态", "货币种类", "应结订单金额", "手续费", "订单金额"]

    /// Totals header names and the column each one sums (nil: the row count).
    static let totals: [String: String?] = [
        "总交易单数": nil, "应结订单总金额": "应结订单金额", "退款总金额": "退款金额", "充值券退款总金额": "充值券退款金额", "手续费总金额": "手续费",
        "订单总金额": "订单金额", "申请退款总金额": "申请退款金额",
    ]
    static let totalsHeader = ["总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"]
    /// The columns summed for the totals line, in the totals header's order.
    static let summed = ["应结订单金额", "退款金额", "充值券退款金额", "手续费", "订单金额", "申请退款金额"]
    /// The fee has 5 decimals (§2.5); every other amount 2.
    static func decimals(_ column: String) -> Int { column == "手续费" ? 5 : 2 }
}
