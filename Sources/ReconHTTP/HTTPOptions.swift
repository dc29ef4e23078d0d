/// Limits and TLS settings for one transfer. The defaults suit API calls; downloads raise
/// `maxBodySize` and usually drop `totalTimeout` in favour of `lowSpeed`.
public struct HTTPOptions: Sendable {
    /// Time to resolve the host and open the TCP connection.
    public var connectTimeout: Duration
    /// Time for the whole transfer, connect included; nil for none.
    public var totalTimeout: Duration?
    /// Abort a transfer that has stalled; nil for never.
    public var lowSpeed: LowSpeedLimit?
    /// Largest body accepted, in bytes. For a download this counts the whole file, the part
    /// resumed from included. Checked against Content-Length and again on every write, since
    /// a server need not announce a length.
    public var maxBodySize: Int64
    /// A PEM bundle of extra trusted CAs (CURLOPT_CAINFO), e.g. a bank's private CA.
    /// Verification of the peer and of the host name is always on.
    public var caFile: String?
    /// Follow 3xx answers (at most `maxRedirects`, http and https only).
    public var followRedirects: Bool
    public var maxRedirects: Int
    public var userAgent: String

    public init(
        connectTimeout: Duration = .seconds(10),
        totalTimeout: Duration? = .seconds(60),
        lowSpeed: LowSpeedLimit? = LowSpeedLimit(bytesPerSecond: 1, window: .seconds(30)),
        maxBodySize: Int64 = 32 << 20,
        caFile: String? = nil,
        followRedirects: Bool = false,
        maxRedirects: Int = 5,
        userAgent: String = "recon"
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.lowSpeed = lowSpeed
        self.maxBodySize = maxBodySize
        self.caFile = caFile
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.userAgent = userAgent
    }
}

/// Abort when fewer than `bytesPerSecond` bytes per second, on average, moved during `window`.
///
/// Checked by us from the progress callback rather than by CURLOPT_LOW_SPEED_LIMIT, because curl
/// reports its own low-speed abort with the same code as a timeout (CURLE_OPERATION_TIMEDOUT);
/// ours is told apart exactly. Windows follow one another; time spent connecting counts.
public struct LowSpeedLimit: Sendable, Equatable {
    public var bytesPerSecond: Int64
    public var window: Duration

    public init(bytesPerSecond: Int64, window: Duration) {
        self.bytesPerSecond = bytesPerSecond
        self.window = window
    }
}

extension Duration {
    /// Whole milliseconds, rounded up and at least 1: curl reads 0 as "no limit".
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 1 }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        let (ms, overflowed) = seconds.multipliedReportingOverflow(by: 1000)
        let (total, overflowedAgain) = ms.addingReportingOverflow(fraction)
        if overflowed || overflowedAgain { return Int.max }
        return max(1, Int(total))
    }
}
