import CCurl

/// The one owner of a libcurl easy handle and of the C memory curl reads during a transfer:
/// the error buffer and the request's header list.
///
/// Not Sendable: a handle is made, used and closed on one blocking thread inside one transfer.
final class CurlEasyHandle {
    /// CURL* (curl's `typedef void CURL`); nil once closed.
    private var raw: UnsafeMutableRawPointer?
    /// The list set as CURLOPT_HTTPHEADER; curl reads it during perform, we free it after cleanup.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// CURLOPT_ERRORBUFFER: curl writes its error text here; lives until deinit, after cleanup.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private static let errorBufferSize = Int(CURL_ERROR_SIZE) + 1

    init() throws {
        errorBuffer = .allocate(capacity: Self.errorBufferSize)
        errorBuffer.initialize(repeating: 0, count: Self.errorBufferSize)
        headerList = nil
        raw = nil
        // Every stored property is set from here on, so a throw below still runs deinit.
        try CurlGlobal.ensureInitialized()
        raw = curl_easy_init()
        guard raw != nil else { throw HTTPClientError.curlSetupFailed(step: "curl_easy_init", curlCode: -1) }
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer), name: "CURLOPT_ERRORBUFFER")
        // No SIGALRM for DNS timeouts: signals and threads do not mix.
        try set(CURLOPT_NOSIGNAL, 1, name: "CURLOPT_NOSIGNAL")
    }

    /// Clears every option and callback set for the last transfer, keeping what curl keeps across
    /// `curl_easy_reset`: its live connections (keep-alive), DNS and TLS session caches. Throws
    /// when the handle cannot be set up again; it is then closed.
    func reset() throws {
        guard let raw else { throw HTTPClientError.curlSetupFailed(step: "reset of a closed handle", curlCode: -1) }
        curl_easy_reset(raw)
        // curl no longer reads the header list once reset.
        if let headerList {
            curl_slist_free_all(headerList)
            self.headerList = nil
        }
        do {
            try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer), name: "CURLOPT_ERRORBUFFER")
            try set(CURLOPT_NOSIGNAL, 1, name: "CURLOPT_NOSIGNAL")
        } catch {
            close()
            throw error
        }
    }

    /// Frees the handle and the header list. Safe to call more than once.
    func close() {
        if let raw {
            curl_easy_cleanup(raw)
            self.raw = nil
        }
        if let headerList {
            curl_slist_free_all(headerList)
            self.headerList = nil
        }
    }

    deinit {
        close()
        errorBuffer.deallocate()
    }

    // MARK: Options

    func set(_ option: CURLoption, _ value: Int, name: String) throws {
        try check(name) { recon_curl_setopt_long($0, option, value) }
    }

    func set(_ option: CURLoption, offset value: Int64, name: String) throws {
        try check(name) { recon_curl_setopt_off($0, option, curl_off_t(value)) }
    }

    /// curl copies string options (all but POSTFIELDS), so the C string need not outlive the call.
    func set(_ option: CURLoption, string value: String, name: String) throws {
        guard !value.utf8.contains(0) else {
            throw HTTPClientError.invalidRequest(reason: "\(name) contains a NUL byte")
        }
        try check(name) { handle in value.withCString { recon_curl_setopt_str(handle, option, $0) } }
    }

    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?, name: String) throws {
        try check(name) { recon_curl_setopt_ptr($0, option, value) }
    }

    func set(_ option: CURLoption, callback: recon_curl_data_cb, name: String) throws {
        try check(name) { recon_curl_setopt_datacb($0, option, callback) }
    }

    func set(_ option: CURLoption, callback: recon_curl_xferinfo_cb, name: String) throws {
        try check(name) { recon_curl_setopt_xferinfocb($0, option, callback) }
    }

    /// The request body, copied by curl (CURLOPT_COPYPOSTFIELDS), so it may be freed right after.
    func setBody(_ bytes: UnsafeRawBufferPointer) throws {
        try set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(bytes.count), name: "CURLOPT_POSTFIELDSIZE_LARGE")
        // An empty body still needs a valid pointer; curl reads none of it.
        let empty: StaticString = ""
        let pointer = bytes.baseAddress ?? UnsafeRawPointer(empty.utf8Start)
        try check("CURLOPT_COPYPOSTFIELDS") { recon_curl_setopt_bytes($0, CURLOPT_COPYPOSTFIELDS, pointer) }
    }

    /// Replaces the header list. On failure nothing is leaked: the partial list is freed here,
    /// a list already set stays owned by the handle.
    func setHeaders(_ lines: [String]) throws {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let appended = curl_slist_append(list, line) else {
                if let list { curl_slist_free_all(list) }
                throw HTTPClientError.curlSetupFailed(step: "curl_slist_append", curlCode: -1)
            }
            list = appended
        }
        do {
            try check("CURLOPT_HTTPHEADER") { recon_curl_setopt_slist($0, CURLOPT_HTTPHEADER, list) }
        } catch {
            if let list { curl_slist_free_all(list) }
            throw error
        }
        if let headerList { curl_slist_free_all(headerList) }
        headerList = list
    }

    // MARK: Transfer

    /// Runs the transfer on the calling thread (which must be one of ours, never the cooperative pool).
    func perform() -> CURLcode {
        guard let raw else { return CURLE_FAILED_INIT }
        errorBuffer[0] = 0
        return curl_easy_perform(raw)
    }

    /// curl's error text for the last perform; empty when it left none.
    var errorText: String {
        errorBuffer[Self.errorBufferSize - 1] = 0
        return String(cString: errorBuffer)
    }

    func info(_ item: CURLINFO) -> Int? {
        guard let raw else { return nil }
        var value = 0
        return recon_curl_getinfo_long(raw, item, &value) == CURLE_OK ? value : nil
    }

    func info(offset item: CURLINFO) -> Int64? {
        guard let raw else { return nil }
        var value: curl_off_t = 0
        return recon_curl_getinfo_off(raw, item, &value) == CURLE_OK ? Int64(value) : nil
    }

    private func check(_ name: String, _ call: (UnsafeMutableRawPointer) -> CURLcode) throws {
        guard let raw else { throw HTTPClientError.curlSetupFailed(step: "\(name) on a closed handle", curlCode: -1) }
        let code = call(raw)
        guard code == CURLE_OK else { throw HTTPClientError.curlSetupFailed(step: name, curlCode: Int(code.rawValue)) }
    }
}
