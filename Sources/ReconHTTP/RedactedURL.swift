import CCurl

/// `url` as scheme://host:port/path, for logs and records.
///
/// The query (signatures, tokens), the fragment and any user:password are dropped. The URL is
/// parsed by libcurl's own parser, so the parts are the ones curl actually connects to. A URL
/// curl cannot parse is not echoed at all.
public func redactedURL(_ url: String) -> String {
    URLCheck.withParsed(url) { parsed -> String? in
        guard let scheme = parsed.part(CURLUPART_SCHEME), let host = parsed.part(CURLUPART_HOST),
            let port = parsed.part(CURLUPART_PORT, flags: recon_curlu_default_port())
        else { return nil }
        let path = parsed.part(CURLUPART_PATH) ?? "/"
        return "\(scheme)://\(host):\(port)\(path)"
    } ?? "<unparseable URL>"
}

/// URL questions answered by curl's parser (curl_url), the one that will be used for the request.
enum URLCheck {
    static func isParseable(_ url: String) -> Bool {
        withParsed(url) { _ in true } ?? false
    }

    /// The parts of `url` that may carry secrets and must not reach a log.
    static func secretParts(of url: String) -> [String] {
        withParsed(url) { parsed in
            [CURLUPART_QUERY, CURLUPART_FRAGMENT, CURLUPART_USER, CURLUPART_PASSWORD].compactMap { parsed.part($0) }
        } ?? []
    }

    /// Runs `body` on curl's parse of `url`; nil when curl cannot parse it.
    static func withParsed<T>(_ url: String, _ body: (ParsedURL) -> T?) -> T? {
        guard CurlGlobal.isInitialized, !url.utf8.contains(0), let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        let code = url.withCString { curl_url_set(handle, CURLUPART_URL, $0, recon_curlu_non_support_scheme()) }
        guard code == CURLUE_OK else { return nil }
        return body(ParsedURL(handle: handle))
    }

    /// A parsed URL, valid only inside `withParsed`.
    struct ParsedURL {
        fileprivate let handle: OpaquePointer

        /// One part, or nil when the URL has none.
        func part(_ which: CURLUPart, flags: UInt32 = 0) -> String? {
            var text: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &text, flags) == CURLUE_OK, let text else { return nil }
            defer { curl_free(text) }
            return String(cString: text)
        }
    }
}
