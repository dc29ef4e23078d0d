import ReconCalendar
public import ReconCore
import ReconFixtures

/// One small synthetic day's files, in memory, for the seed corpora: every channel's bill, the
/// payments file and the ledger file, consistent with each other (ReconFixtures' generator), and the
/// settings the targets parse them with (the standard channels' merchants, the same day).
public struct SyntheticFiles {
    public var alipayDetails: [UInt8] = []
    public var alipaySummary: [UInt8] = []
    public var wechatpay: [UInt8] = []
    public var unionpay: [UInt8] = []
    public var bank: [UInt8] = []
    public var payments: [UInt8] = []
    public var ledger: [UInt8] = []

    /// 2026-11-23, as in the tests.
    public static let day = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 23))
    public static let alipayAccount = channel(.alipay).alipayAccountID
    public static let wechatMerchant = channel(.wechatpay).merchant
    public static let unionPayMerchant = channel(.unionpay).merchant
    /// The payments file's channels, by name, with how each keys its refunds.
    public static let channelRules = Dictionary(
        uniqueKeysWithValues: SyntheticChannel.standard.map { ($0.name, $0.keyRule) })

    private static func channel(_ adapter: SyntheticChannel.Adapter) -> SyntheticChannel {
        SyntheticChannel.standard.first { $0.adapter == adapter } ?? SyntheticChannel.standard[0]
    }

    /// The day with about `lines` bill lines per channel (at least the twenty or so kinds every day has).
    public static func make(lines: Int, seed: UInt64) throws -> SyntheticFiles {
        let sink = Sink()
        let day = SyntheticDay(seed: seed, day: day, linesPerChannel: lines)
        try day.write(
            bill: { index, part in
                switch (day.channels[index].adapter, part) {
                case (.alipay, .bill): return { sink.files.alipayDetails += $0 }
                case (.alipay, .alipaySummary): return { sink.files.alipaySummary += $0 }
                case (.wechatpay, _): return { sink.files.wechatpay += $0 }
                case (.unionpay, _): return { sink.files.unionpay += $0 }
                case (.bankCSV, _): return { sink.files.bank += $0 }
                }
            },
            payments: { sink.files.payments += $0 }, ledger: { sink.files.ledger += $0 }, expected: { _ in })
        return sink.files
    }

    private final class Sink {
        var files = SyntheticFiles()
    }
}

extension [UInt8] {
    /// The first `count` lines (each with its line break) of the file.
    public func lines(_ count: Int) -> [UInt8] {
        var seen = 0
        for index in indices where self[index] == 10 {
            seen += 1
            if seen == count { return Array(self[...index]) }
        }
        return self
    }

}
