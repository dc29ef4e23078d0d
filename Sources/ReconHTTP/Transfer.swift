import CCurl
import Foundation

/// One request, performed on the calling thread (a thread of the executor, never the pool).
struct Transfer {
    let request: HTTPRequest
    let options: HTTPOptions
    let cancellation: CancellationFlag
    /// Where the handle comes from and goes back to (keep-alive); nil for a handle of its own.
    var handles: KeptAliveHandles? = nil

    /// The response body into memory, at most `options.maxBodySize` bytes.
    func runInMemory() throws -> HTTPResult {
        let clock = ContinuousClock()
        let start = clock.now
        let attempt = try perform(file: nil, resumeFrom: 0)
        return result(attempt, bytesReceived: attempt.context.bytesReceived, duration: clock.now - start)
    }

    /// The response body into the file at `path`, continuing the bytes already there when
    /// `resume` is set (with `If-Range: ifRange` beside the Range). A 2xx other than 206 to a
    /// resume empties the file first; a 206 for another range than asked for is dropped and the
    /// download done again from zero.
    func runDownload(path: String, resume: Bool, ifRange: String? = nil) throws -> HTTPResult {
        if resume, request.method != .get {
            throw HTTPClientError.invalidRequest(reason: "only a GET download can be resumed")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let file = try DownloadFile(path: path, keepContents: resume)
        defer { file.close() }
        var attempt = try perform(file: file, resumeFrom: file.size, ifRange: ifRange)
        if let error = attempt.context.fileErrno { throw HTTPClientError.cannotWriteFile(path: path, errno: error) }
        var received = attempt.context.bytesReceived
        var restarted = attempt.context.truncatedForFullBody
        if attempt.context.rangeMismatch {
            // Those bytes belong elsewhere in the file; a plain GET from zero is the safe answer.
            if let error = file.truncateToZero() { throw HTTPClientError.cannotWriteFile(path: path, errno: error) }
            attempt = try perform(file: file, resumeFrom: 0)
            if let error = attempt.context.fileErrno { throw HTTPClientError.cannotWriteFile(path: path, errno: error) }
            received += attempt.context.bytesReceived
            restarted = true
        } else if attempt.requestedOffset > 0, attempt.code == CURLE_OK, !restarted, let status = attempt.status,
            (200..<300).contains(status), status != 206
        {
            // A whole answer with no body byte (nothing reached the write callback): the entity
            // is empty, so the file must be too.
            if let error = file.truncateToZero() { throw HTTPClientError.cannotWriteFile(path: path, errno: error) }
            restarted = true
        }
        if attempt.outcome == .completed, let error = file.sync() {
            throw HTTPClientError.cannotWriteFile(path: path, errno: error)
        }
        if let error = file.close() { throw HTTPClientError.cannotWriteFile(path: path, errno: error) }
        var result = result(attempt, bytesReceived: received, duration: clock.now - start)
        result.restartedFromZero = restarted
        if restarted { result.resumedFrom = 0 }
        return result
    }

    // MARK: One perform

    private struct Attempt {
        var code: CURLcode
        var outcome: HTTPOutcome
        var status: Int?
        /// The offset asked for with `Range`, and the one the file was continued from (0 after
        /// a whole-body answer emptied it).
        var requestedOffset: Int64
        var resumeFrom: Int64
        var message: String
        var context: TransferContext
        var connectionsOpened: Int
    }

    private func perform(file: DownloadFile?, resumeFrom: Int64, ifRange: String? = nil) throws -> Attempt {
        let handle = try handles?.take() ?? CurlEasyHandle()
        defer {
            if let handles { handles.giveBack(handle) } else { handle.close() }
        }
        let context = TransferContext(
            handle: handle, file: file, resumeOffset: resumeFrom, options: options, cancellation: cancellation)
        try configure(handle, resumeFrom: resumeFrom, ifRange: ifRange)
        try context.install(on: handle)
        let code = withExtendedLifetime(context) { handle.perform() }
        let status = handle.info(CURLINFO_RESPONSE_CODE).flatMap { $0 > 0 ? $0 : nil }
        let connected = (handle.info(offset: CURLINFO_CONNECT_TIME_T) ?? 0) > 0
        let outcome = classify(code, context: context, connected: connected)
        return Attempt(
            code: code, outcome: outcome, status: status, requestedOffset: resumeFrom,
            resumeFrom: context.resumeOffset,
            message: scrub(handle.errorText), context: context,
            connectionsOpened: handle.info(CURLINFO_NUM_CONNECTS) ?? 0)
    }

    private func configure(_ handle: CurlEasyHandle, resumeFrom: Int64, ifRange: String?) throws {
        guard URLCheck.isParseable(request.url) else {
            throw HTTPClientError.invalidRequest(reason: "the URL cannot be parsed")
        }
        try handle.set(CURLOPT_URL, string: request.url, name: "CURLOPT_URL")
        try handle.set(CURLOPT_PROTOCOLS_STR, string: "http,https", name: "CURLOPT_PROTOCOLS_STR")
        // A redirect never downgrades https to http (headers may carry signatures or tokens).
        let redirectProtocols = request.url.lowercased().hasPrefix("https:") ? "https" : "http,https"
        try handle.set(CURLOPT_REDIR_PROTOCOLS_STR, string: redirectProtocols, name: "CURLOPT_REDIR_PROTOCOLS_STR")
        try configureMethod(handle)
        // If-Range means nothing without a Range (RFC 9110 §13.1.5).
        try handle.setHeaders(try headerLines(ifRange: resumeFrom > 0 ? ifRange : nil))
        try handle.set(CURLOPT_USERAGENT, string: options.userAgent, name: "CURLOPT_USERAGENT")

        try handle.set(
            CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeout.curlMilliseconds, name: "CURLOPT_CONNECTTIMEOUT_MS")
        if let total = options.totalTimeout {
            try handle.set(CURLOPT_TIMEOUT_MS, total.curlMilliseconds, name: "CURLOPT_TIMEOUT_MS")
        }
        try handle.set(CURLOPT_TCP_KEEPALIVE, 1, name: "CURLOPT_TCP_KEEPALIVE")
        try handle.set(
            CURLOPT_MAXFILESIZE_LARGE, offset: max(0, options.maxBodySize), name: "CURLOPT_MAXFILESIZE_LARGE")
        if options.followRedirects {
            try handle.set(CURLOPT_FOLLOWLOCATION, 1, name: "CURLOPT_FOLLOWLOCATION")
            try handle.set(CURLOPT_MAXREDIRS, options.maxRedirects, name: "CURLOPT_MAXREDIRS")
        }

        try handle.set(CURLOPT_SSL_VERIFYPEER, 1, name: "CURLOPT_SSL_VERIFYPEER")
        try handle.set(CURLOPT_SSL_VERIFYHOST, 2, name: "CURLOPT_SSL_VERIFYHOST")
        if let caFile = options.caFile {
            try handle.set(CURLOPT_CAINFO, string: caFile, name: "CURLOPT_CAINFO")
        }
        if resumeFrom > 0 {
            // `Range: bytes=N-` through CURLOPT_RANGE, not CURLOPT_RESUME_FROM_LARGE: for a resumed
            // GET, libcurl 7.88 fails every answer without Content-Range (a 200, but also a 503)
            // with CURLE_RANGE_ERROR and drops its body. We judge the answer in the write callback.
            try handle.set(CURLOPT_RANGE, string: "\(resumeFrom)-", name: "CURLOPT_RANGE")
        }
    }

    private func configureMethod(_ handle: CurlEasyHandle) throws {
        let method = request.method.rawValue
        guard !method.isEmpty, method.utf8.allSatisfy(HeaderSyntax.isTokenByte) else {
            throw HTTPClientError.invalidRequest(reason: "the method is not an HTTP token")
        }
        switch (request.method, request.body) {
        case (.get, nil):
            try handle.set(CURLOPT_HTTPGET, 1, name: "CURLOPT_HTTPGET")
        case (.head, nil):
            try handle.set(CURLOPT_NOBODY, 1, name: "CURLOPT_NOBODY")
        case (.head, .some):
            throw HTTPClientError.invalidRequest(reason: "a HEAD request cannot have a body")
        case (_, let body?):
            try body.withUnsafeBytes { try handle.setBody($0) }
            if request.method != .post {
                try handle.set(CURLOPT_CUSTOMREQUEST, string: method, name: "CURLOPT_CUSTOMREQUEST")
            }
        case (.post, nil):
            try handle.setBody(UnsafeRawBufferPointer(start: nil, count: 0))
        case (_, nil):
            try handle.set(CURLOPT_CUSTOMREQUEST, string: method, name: "CURLOPT_CUSTOMREQUEST")
        }
    }

    /// The request's headers as curl lines. Names must be tokens and values free of CR, LF and
    /// NUL (no header injection); the error names the header but never shows a value.
    private func headerLines(ifRange: String?) throws -> [String] {
        var lines: [String] = []
        var sendsExpect = false
        let extra = ifRange.map { [HTTPHeaderField(name: "If-Range", value: $0)] } ?? []
        for field in request.headers.fields + extra {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(HeaderSyntax.isTokenByte) else {
                throw HTTPClientError.invalidRequest(reason: "a header name is not an HTTP token")
            }
            guard !field.value.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) else {
                throw HTTPClientError.invalidRequest(reason: "the value of header \(field.name) contains CR, LF or NUL")
            }
            if HTTPHeaders.sameName(field.name, "Expect") { sendsExpect = true }
            // "Name:" would make curl drop the header; "Name;" sends it with an empty value.
            lines.append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        // curl waits up to a second for "100 Continue" before sending a large body; APIs we call
        // do not need the round trip.
        if !sendsExpect { lines.append("Expect:") }
        return lines
    }

    // MARK: Result

    private func classify(_ code: CURLcode, context: TransferContext, connected: Bool) -> HTTPOutcome {
        if code == CURLE_OK { return .completed }
        if context.stoppedForSize { return .bodyTooLarge }
        if context.stoppedForLowSpeed { return .lowSpeedAbort }
        if context.stoppedForCancellation { return .cancelled }
        switch code {
        case CURLE_FILESIZE_EXCEEDED:
            return .bodyTooLarge
        case CURLE_OPERATION_TIMEDOUT:
            // curl uses this code for both limits; before a connection it was the connect phase.
            return connected ? .timedOut : .connectFailed
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .connectFailed
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2_STREAM:
            return .cutOff
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED, CURLE_SSL_CLIENTCERT:
            return .tlsFailure
        default:
            return .other(curlCode: Int(code.rawValue))
        }
    }

    private func result(_ attempt: Attempt, bytesReceived: Int64, duration: Duration) -> HTTPResult {
        HTTPResult(
            outcome: attempt.outcome, status: attempt.status, headers: attempt.context.headers,
            body: attempt.context.body, bytesReceived: bytesReceived, resumedFrom: attempt.resumeFrom,
            restartedFromZero: attempt.context.truncatedForFullBody, curlCode: Int(attempt.code.rawValue),
            curlMessage: attempt.message, duration: duration, redactedURL: request.redactedURL,
            connectionsOpened: attempt.connectionsOpened)
    }

    /// curl's error text with the URL, its query, its user info and header values taken out.
    private func scrub(_ text: String) -> String {
        guard !text.isEmpty else { return text }
        var secrets = [request.url] + URLCheck.secretParts(of: request.url)
        secrets += request.headers.fields.map(\.value).filter { $0.utf8.count >= 4 }
        var scrubbed = text
        for secret in secrets.sorted(by: { $0.utf8.count > $1.utf8.count }) where !secret.isEmpty {
            let replacement = secret == request.url ? request.redactedURL : "[redacted]"
            scrubbed = scrubbed.replacingOccurrences(of: secret, with: replacement)
        }
        return scrubbed
    }
}

/// RFC 9110 token characters (header names, methods).
enum HeaderSyntax {
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
