#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A local problem that stopped a transfer from being made or recorded.
///
/// What the network or the server did is never thrown: it is in `HTTPResult`. Nothing here holds
/// a URL, a header value or a body, so these errors can be logged as they are.
public enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    /// The download file could not be opened (or sized, or positioned) before the transfer.
    case cannotOpenFile(path: String, errno: Int32)
    /// Writing the body to the download file failed mid-transfer (disk full, I/O error).
    case cannotWriteFile(path: String, errno: Int32)
    /// The request itself is malformed; `reason` says how without echoing the value.
    case invalidRequest(reason: String)
    /// libcurl refused a setup step (an option this libcurl lacks, out of memory).
    case curlSetupFailed(step: String, curlCode: Int)

    public var description: String {
        switch self {
        case .cannotOpenFile(let path, let code):
            "cannot open download file \(path): \(Self.describe(errno: code))"
        case .cannotWriteFile(let path, let code):
            "cannot write download file \(path): \(Self.describe(errno: code))"
        case .invalidRequest(let reason):
            "invalid HTTP request: \(reason)"
        case .curlSetupFailed(let step, let code):
            "libcurl setup failed at \(step): curl error \(code)"
        }
    }

    private static func describe(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return "\(String(cString: text)) (errno \(code))"
    }
}
