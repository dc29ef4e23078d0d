public import Foundation

/// How a transfer ended. A server's error status is not a failure here: a 503 is `.completed`
/// with `status` 503; this says what happened to the connection and the bytes.
public enum HTTPOutcome: Sendable, Equatable {
    /// The whole response arrived (whatever its status).
    case completed
    /// The total timeout expired after the connection was made.
    case timedOut
    /// No connection: refused, host not resolved, or nothing within the connect timeout.
    case connectFailed
    /// Fewer bytes than `LowSpeedLimit` asks for moved during one window.
    case lowSpeedAbort
    /// The body passed `maxBodySize` (announced or counted); the transfer was stopped.
    case bodyTooLarge
    /// The connection broke mid-response (CURLE_PARTIAL_FILE, recv/send errors, empty reply);
    /// a download can be resumed from what is on disk.
    case cutOff
    /// The TLS handshake or the certificate check failed.
    case tlsFailure
    /// The awaiting task was cancelled and the transfer stopped.
    case cancelled
    /// Any other libcurl error; `HTTPResult.curlMessage` says more.
    case other(curlCode: Int)
}

/// What came back, and what happened on the way. Holds no request header and no query string.
public struct HTTPResult: Sendable {
    public var outcome: HTTPOutcome
    /// The final response's status; nil when no response arrived.
    public var status: Int?
    /// The final response's headers (those of earlier redirects or 1xx answers are dropped).
    public var headers: HTTPHeaders
    /// The body of an in-memory request. For a download the file gets the body; this holds
    /// only a non-2xx answer's body (its first 64 KiB), for diagnosis.
    public var body: Data
    /// Body bytes taken in by this call: kept in memory or written to the file (for a download's
    /// non-2xx answer, all its bytes); across the restart, if there was one.
    public var bytesReceived: Int64
    /// For a download, the size of the partial file that the transfer continued from; 0 when
    /// it started from the beginning.
    public var resumedFrom: Int64
    /// A resume was asked for but the file now starts from byte 0: the server answered with the
    /// whole body (200, not 206) and the file was emptied first, or its 206 was for another range
    /// and the download was done again without `Range`.
    public var restartedFromZero: Bool
    /// libcurl's result code (0 = CURLE_OK), and its error text (CURLOPT_ERRORBUFFER) with
    /// anything from the URL's query or the request headers taken out.
    public var curlCode: Int
    public var curlMessage: String
    public var duration: Duration
    public var redactedURL: String
    /// New connections this transfer opened (CURLINFO_NUM_CONNECTS): 0 when it went over one kept
    /// alive from an earlier request.
    public var connectionsOpened: Int = 0

    /// The transfer completed with a 2xx status.
    public var isSuccess: Bool {
        guard outcome == .completed, let status else { return false }
        return (200..<300).contains(status)
    }
}

extension HTTPResult: CustomStringConvertible {
    public var description: String {
        let status = status.map(String.init) ?? "none"
        var text = "\(redactedURL): \(outcome), status \(status), \(bytesReceived) bytes in \(duration)"
        if resumedFrom > 0 { text += ", resumed from \(resumedFrom)" }
        if restartedFromZero { text += ", restarted from zero" }
        if curlCode != 0 { text += ", curl \(curlCode): \(curlMessage)" }
        return text
    }
}
