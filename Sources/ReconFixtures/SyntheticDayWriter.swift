import ReconBills
public import ReconCore
public import ReconMatching

/// Which file of a channel's bill a sink receives: the bill itself, or Alipay's second file.
public enum SyntheticBillPart: Sendable, Equatable {
    /// Alipay's `_业务明细.csv`, WeChat's bill, UnionPay's ZM file, the bank file.
    case bill
    /// Alipay's `业务明细(汇总).csv`.
    case alipaySummary
}

/// What one pass over a synthetic day wrote.
public struct SyntheticDaySummary: Sendable, Equatable {
    /// Bill lines per channel, in the order of `SyntheticDay.channels`.
    public var lines: [Int]
    public var legs = 0
    public var entries = 0
    /// Expected results by status.
    public var statuses: [MatchStatus: Int] = [:]

    public init(channels: Int) { lines = Array(repeating: 0, count: channels) }

    public var expectedResults: Int { statuses.values.reduce(0, +) }
}

/// A channel's bill writer, whichever the adapter.
public struct SyntheticBillWriter {
    private enum Writers {
        case alipay(AlipayDetailsWriter, AlipaySummaryWriter)
        case wechatpay(WeChatBillWriter)
        case unionpay(UnionPayZMWriter)
        case bank(BankCSVWriter)
    }

    private var writers: Writers

    /// `sink` gets the bill's bytes; `summarySink` Alipay's summary file (required for Alipay).
    public init(
        channel: SyntheticChannel, day: LocalDay, sink: @escaping ([UInt8]) throws -> Void,
        summarySink: (([UInt8]) throws -> Void)? = nil
    ) throws {
        switch channel.adapter {
        case .alipay:
            writers = .alipay(
                try AlipayDetailsWriter(accountID: channel.alipayAccountID, day: day, sink: sink),
                try AlipaySummaryWriter(accountID: channel.alipayAccountID, day: day, sink: summarySink ?? { _ in }))
        case .wechatpay:
            writers = .wechatpay(WeChatBillWriter(merchantID: channel.merchant, sink: sink))
        case .unionpay:
            writers = .unionpay(try UnionPayZMWriter(merchantID: channel.merchant, sink: sink))
        case .bankCSV:
            writers = .bank(BankCSVWriter(sink: sink))
        }
    }

    public mutating func append(_ transaction: SyntheticTransaction) throws {
        switch writers {
        case .alipay(var details, var summary):
            try details.append(transaction)
            try summary.append(transaction)
            writers = .alipay(details, summary)
        case .wechatpay(var writer):
            try writer.append(transaction)
            writers = .wechatpay(writer)
        case .unionpay(var writer):
            try writer.append(transaction)
            writers = .unionpay(writer)
        case .bank(var writer):
            try writer.append(transaction)
            writers = .bank(writer)
        }
    }

    public mutating func finish() throws {
        switch writers {
        case .alipay(var details, var summary):
            try details.finish()
            try summary.finish()
        case .wechatpay(var writer): try writer.finish()
        case .unionpay(var writer): try writer.finish()
        case .bank(var writer): try writer.finish()
        }
    }
}

extension SyntheticDay {
    /// Writes the whole day in one pass, channel after channel, item after item: each channel's
    /// bill to the sink `bill` returns for it, the legs of every channel to `payments` (one
    /// payments file, header first), the ledger entries to `ledger`, and each expected result to
    /// `expected`. Nothing but one item is held at a time.
    @discardableResult
    public func write(
        prior: Prior = .none, bill: (_ channel: Int, _ part: SyntheticBillPart) throws -> ([UInt8]) throws -> Void,
        payments: @escaping ([UInt8]) throws -> Void, ledger: @escaping ([UInt8]) throws -> Void,
        expected: (ExpectedResult) throws -> Void
    ) throws -> SyntheticDaySummary {
        var summary = SyntheticDaySummary(channels: channels.count)
        var legs = try SyntheticCSVWriter(header: SyntheticLeg.header, sink: payments)
        var entries = try SyntheticCSVWriter(header: SyntheticLedgerEntry.header, sink: ledger)
        for (index, channel) in channels.enumerated() {
            var writer = try SyntheticBillWriter(
                channel: channel, day: day, sink: try bill(index, .bill),
                summarySink: channel.adapter == .alipay ? try bill(index, .alipaySummary) : nil)
            for item in items(channel: index, prior: prior) {
                for transaction in item.transactions { try writer.append(transaction) }
                for leg in item.legs { try legs.append(bytes: leg.csvBytes) }
                for entry in item.entries { try entries.append(bytes: entry.csvBytes) }
                for result in item.expected {
                    try expected(result)
                    summary.statuses[result.status, default: 0] += 1
                }
                summary.lines[index] += item.transactions.count
                summary.legs += item.legs.count
                summary.entries += item.entries.count
            }
            try writer.finish()
        }
        try legs.finish()
        try entries.finish()
        return summary
    }

    /// Every expected result of the day (for small days: the list is whole in memory).
    public func expectedResults(prior: Prior = .none) -> [ExpectedResult] {
        channels.indices.flatMap { index in items(channel: index, prior: prior).flatMap(\.expected) }
    }
}
