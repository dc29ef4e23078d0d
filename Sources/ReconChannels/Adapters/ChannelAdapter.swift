public import ReconCore

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
}
