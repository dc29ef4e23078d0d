import CCurl

/// libcurl's process-wide setup, done exactly once and by us.
///
/// `curl_global_init` is not thread-safe; if it is left to `curl_easy_init`, two threads creating
/// their first handles at once race inside it. A `static let` is initialised once, under a lock
/// the runtime holds, before any handle of ours exists. It is never undone: `curl_global_cleanup`
/// while another thread uses curl would be worse than leaving it for process exit.
enum CurlGlobal {
    private static let initCode: Int = Int(recon_curl_global_init_default().rawValue)

    /// Whether curl's global setup succeeded (running it first if nobody has yet).
    static var isInitialized: Bool { initCode == Int(CURLE_OK.rawValue) }

    /// Throws if curl's global setup failed (then no handle can work).
    static func ensureInitialized() throws {
        let code = initCode
        if code != Int(CURLE_OK.rawValue) {
            throw HTTPClientError.curlSetupFailed(step: "curl_global_init", curlCode: code)
        }
    }
}
