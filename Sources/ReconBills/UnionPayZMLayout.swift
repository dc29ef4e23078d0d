/// The fixed-width UnionPay ZM record (CHANNELS.md §3.3): 42 fields of these byte lengths, one
/// separator byte between fields and none after the last, 607 bytes in all. Fields are numbered
/// from 1 as in that table.
package enum UnionPayZMLayout {
    package static let lengths = [
        3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4, 32, 1, 21, 15, 1, 15, 32, 13,
        13, 8, 32, 13, 13, 12, 2, 1, 32, 98,
    ]
    package static let names = [
        "交易代码", "代理机构标识码", "发送机构标识码", "系统跟踪号", "交易传输时间", "主账号", "交易金额", "商户类别", "终端类型", "查询流水号",
        "支付方式（旧）", "商户订单号", "支付卡类型", "原始交易系统跟踪号", "原始交易日期时间", "商户手续费", "结算金额", "支付方式", "集团商户代码", "交易类型",
        "交易子类", "业务类型", "账号类型", "账单类型", "账单号码", "交互方式", "原交易查询流水号", "商户代码", "分账入账方式", "二级商户代码", "二级商户简称",
        "二级商户分账入账金额", "清算净额", "终端号", "商户自定义域", "优惠金额", "发票金额", "分期附加手续费", "分期期数", "交易介质", "保留域41", "保留域42",
    ]
    /// Byte offset of each field (index 0 is field 1).
    package static let offsets: [Int] = lengths.indices.map { index in lengths[..<index].reduce(0, +) + index }
    package static let recordLength = lengths.reduce(0, +) + lengths.count - 1

    package static let time = 5, amount = 7, queryID = 10, orderID = 12, fee = 16, settled = 17, txnType = 20
    package static let originalQueryID = 27, merchantID = 28, net = 33, custom = 35
    /// Field `number`'s byte range, indexed by field number (index 0 is empty): cut 42 times a record.
    package static let ranges: [Range<Int>] = [0..<0] + (1...lengths.count).map(range)

    /// For each byte of a record, the field it belongs to (0 for a separator): a GBK character
    /// must not straddle two.
    package static let fieldOfByte: [UInt8] = {
        var owners = [UInt8](repeating: 0, count: recordLength)
        for number in 1...lengths.count { for index in range(number) { owners[index] = UInt8(number) } }
        return owners
    }()

    /// The byte range of field `number` (1-based) within a record.
    package static func range(_ number: Int) -> Range<Int> {
        offsets[number - 1]..<(offsets[number - 1] + lengths[number - 1])
    }

    /// What the common txnType codes mean, for flags.
    package static func txnTypeName(_ code: String) -> String {
        switch code {
        case "01": "consume"
        case "02": "pre-auth"
        case "03": "pre-auth completion"
        case "04": "refund"
        case "31": "consume void"
        case "32": "pre-auth void"
        case "33": "pre-auth completion void"
        default: "unknown"
        }
    }
}
