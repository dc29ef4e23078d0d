/// Why a fetch stopped short of a bill, in the classes of CHANNELS.md §5 that are failures.
public enum ChannelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Worth trying again (5xx, 429, timeouts, a cut body, a broken download); `retryAfter` is
    /// the channel's own `Retry-After`, honoured as the earliest retry.
    case transient(String, retryAfter: Duration? = nil)
    /// No retry can help (bad credentials, a rejected signature, a malformed request): the job
    /// goes dead at once with the channel's code and message.
    case permanent(String)

    public var description: String {
        switch self {
        case .transient(let message, _): return message
        case .permanent(let message): return message
        }
    }
}

/// What the channel said about the bill of a day, when it said something definite.
public enum FetchOutcome: Sendable {
    /// The file is downloaded and its transport checks passed; parsing checks the rest.
    case ready(DownloadedBill)
    /// Not published yet (WeChat's STATEMENT_CREATING): snooze, no attempt used.
    case notReady(String)
    /// The channel says there was no business that day: a valid bill with no lines.
    case emptyDay(String)
    /// Alipay and UnionPay answer "no bill" both before publication and for a day without
    /// business; CHANNELS.md §5 decides between them with our own ledger.
    case noBill(String)
}
