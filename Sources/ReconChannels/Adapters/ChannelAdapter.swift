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
        case .alipay, .wechatpay, .unionpay: return UnsupportedAdapter(name: channel.adapter.name)
        }
    }
}

/// Formats whose adapter is not built yet: a permanent failure that says so.
struct UnsupportedAdapter: ChannelAdapter {
    let name: String

    func fetch(_ session: FetchSession) async throws -> FetchOutcome {
        throw ChannelError.permanent("channel \(session.channel.name): the \(name) adapter is not available in this build")
    }
}
