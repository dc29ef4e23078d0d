/// The 25 columns of Alipay's `_业务明细.csv` (CHANNELS.md §1.3), exactly as the header writes
/// them (the `（元）` parentheses are full-width).
package enum AlipayDetailsLayout {
    package static let header = [
        "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员", "终端号", "对方账户",
        "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称",
        "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注",
    ]
    package static let txnID = 0, orderID = 1, kind = 2, subject = 3, created = 4, finished = 5
    package static let amount = 11, received = 12, refundID = 21, fee = 22, remark = 24
    /// The columns a row's `BillLine` and totals are made of; the rest are only checked.
    /// Indexed by column: an array, as it is asked 25 times a row.
    package static let used: [Bool] = header.indices.map {
        [txnID, orderID, kind, finished, amount, received, refundID, fee].contains($0)
    }

    /// 业务类型 交易 or 退款 read from its GBK bytes; nil for anything else (decoded as usual).
    package static func kindName(gbk bytes: ArraySlice<UInt8>) -> String? {
        if bytes.elementsEqual([0xBD, 0xBB, 0xD2, 0xD7]) { return "交易" }
        if bytes.elementsEqual([0xCD, 0xCB, 0xBF, 0xEE]) { return "退款" }
        return nil
    }
}
