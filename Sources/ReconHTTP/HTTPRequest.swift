public import Foundation

/// An HTTP method; any token is allowed, the common ones have names.
public struct HTTPMethod: RawRepresentable, Sendable, Hashable {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let delete = HTTPMethod(rawValue: "DELETE")
}

/// What to send. Headers and the URL's query may hold secrets (tokens, signatures), so the
/// request's descriptions show only the method and `redactedURL`, and results never echo them.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    /// Sent as is; nil sends no body (an empty POST when the method is POST).
    public var body: Data?

    public init(method: HTTPMethod = .get, url: String, headers: HTTPHeaders = [:], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// scheme://host:port/path: what may be recorded about where this request went.
    public var redactedURL: String { ReconHTTP.redactedURL(url) }
}

extension HTTPRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "\(method.rawValue) \(redactedURL) (\(headers.count) headers, \(body?.count ?? 0) body bytes)"
    }

    public var debugDescription: String { "HTTPRequest(\(description))" }

    /// `dump` and test failure messages go through the mirror; keep secrets out of it too.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "method": method.rawValue, "redactedURL": redactedURL,
                "headerCount": headers.count, "bodyBytes": body?.count ?? 0,
            ],
            displayStyle: .struct)
    }
}
