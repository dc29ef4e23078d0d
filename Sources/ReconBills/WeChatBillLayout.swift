/// The column and totals names of WeChat Pay v3 trade bills (CHANNELS.md §2.3). Columns are found
/// by name, because the `ALL`, `SUCCESS` and `REFUND` bills differ.
package enum WeChatBillLayout {
    /// `bill_type=ALL`, the one Recon asks for: 27 columns.
    package static let all = [
        "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型", "交易状态", "付款银行",
        "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称",
        "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
    ]
    /// `REFUND` bills add these after 代金券金额.
    package static let refundOnly = ["退款申请时间", "退款成功时间"]
    package static let known = Set(all + refundOnly)
    /// Every layout has these.
    package static let required = ["交易时间", "商户号", "微信订单号", "商户订单号", "交易状态", "货币种类", "应结订单金额", "手续费", "订单金额"]

    /// Totals header names and the column each one sums (nil: the row count).
    package static let totals: [String: String?] = [
        "总交易单数": nil, "应结订单总金额": "应结订单金额", "退款总金额": "退款金额", "充值券退款总金额": "充值券退款金额", "手续费总金额": "手续费",
        "订单总金额": "订单金额", "申请退款总金额": "申请退款金额",
    ]
    package static let totalsHeader = ["总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"]
    /// The columns the totals line sums, in the totals header's order.
    package enum Summed: Int, CaseIterable, Sendable {
        case settled, refunded, voucherRefunded, fee, ordered, requested

        var name: String {
            switch self {
            case .settled: "应结订单金额"
            case .refunded: "退款金额"
            case .voucherRefunded: "充值券退款金额"
            case .fee: "手续费"
            case .ordered: "订单金额"
            case .requested: "申请退款金额"
            }
        }

        init?(name: String) {
            guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = found
        }

        /// The fee has 5 decimals (§2.5); every other amount 2.
        var decimals: Int { self == .fee ? 5 : 2 }
    }
}

/// Where a bill's header put the columns a row needs.
package struct WeChatRowColumns: Sendable {
    package var time, merchant, txnID, orderID, status, currency: Int
    package var refundID, refundStatus, refundSucceeded: Int?
    /// By `WeChatBillLayout.Summed` raw value.
    package var summed: [Int?]

    /// Nil if a required column is missing (the header check has refused that already).
    package init?(_ columns: [String: Int]) {
        guard let time = columns["交易时间"], let merchant = columns["商户号"], let txnID = columns["微信订单号"],
            let orderID = columns["商户订单号"], let status = columns["交易状态"], let currency = columns["货币种类"]
        else { return nil }
        (self.time, self.merchant, self.txnID, self.orderID, self.status, self.currency) =
            (time, merchant, txnID, orderID, status, currency)
        refundID = columns["商户退款单号"]
        refundStatus = columns["退款状态"]
        refundSucceeded = columns["退款成功时间"]
        summed = WeChatBillLayout.Summed.allCases.map { columns[$0.name] }
    }
}
