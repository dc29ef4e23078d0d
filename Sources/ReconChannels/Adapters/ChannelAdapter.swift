public import ReconBills
public import ReconConfig
public import ReconCore
public import ReconMatching

/// One channel format's way of asking for a day's bill and checking what came back. Adapters
/// classify every answer (CHANNELS.md §5): a definite `FetchOutcome`, or a `ChannelError` that
/// says whether retrying can help.
public protocol ChannelAdapter: Sendable {
    func fetch(_ session: FetchSession) async throws -> FetchOutcome
}

public enum ChannelAdapters {
    /// The adapter for `channel`'s format.
    public static func make(for channel: ChannelDefinition) -> any ChannelAdapter {
        switch channel.adapter {
        case .bankCSV(let options): return BankCSVAdapter(options: options)
        case .wechatpay(let options): return WeChatPayAdapter(options: options)
        case .alipay(let options): return AlipayAdapter(options: options)
        case .unionpay(let options): return UnionPayAdapter(options: options)
        }
    }

    /// Parses a bill file as kept in the archive (for reparsing and benchmarks): the same parse
    /// and checks as a fetch, without the API's announced hash, which only the fetch knows.
    public static func parseArchived(
        _ path: String, channel: ChannelDefinition, day: LocalDay, emit: (BillLine) throws -> Void
    ) throws -> BillSummary {
        let label = "\(channel.name) \(channel.adapter.name) bill \(day) (\(path))"
        switch channel.adapter {
        case .bankCSV(let options):
            return try BankCSVAdapter.parse(
                path, label: label, channel: channel.name, day: day, profile: options.profile,
                packing: BankCSVAdapter.packing(options), maxBytes: channel.maxBillBytes, emit: emit)
        case .wechatpay:
            return try WeChatPayAdapter.parse(
                path, label: label, channel: channel.name, day: day, merchantID: channel.merchantID,
                maxBytes: channel.maxBillBytes, expectedSHA1: nil, emit: emit)
        case .alipay:
            return try AlipayAdapter.parse(
                path, label: label, channel: channel.name, day: day, accountID: channel.merchantID + "0156",
                maxBytes: channel.maxBillBytes, emit: emit)
        case .unionpay:
            return try UnionPayAdapter.parse(
                path, label: label, channel: channel.name, day: day, merchantID: channel.merchantID,
                maxBytes: channel.maxBillBytes, emit: emit)
        }
    }
}

extension ChannelDefinition {
    /// How this channel's refunds meet their legs (issue 12, §2): a UnionPay refund by its own
    /// queryId, the others by the payment's transaction id and the refund request id.
    public var keyRule: KeyRule {
        switch adapter {
        case .unionpay: .ownTransactionID
        case .alipay, .wechatpay, .bankCSV: .sharedTransactionID
        }
    }
}
