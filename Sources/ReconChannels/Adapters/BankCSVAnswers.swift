import Foundation

/// How a `bank_csv` channel's answers are classified (CHANNELS.md §4 and §5), as pure functions of
/// what came back: the adapter calls them between its network calls and keeps only the I/O.
extension BankCSVAdapter {
    /// The file's answer: `savedBytes` is the size of the file a 2xx answer went to, nil when
    /// none did. 404 or an empty body is not published yet; 5xx/429 transient, 401/403 and
    /// anything else permanent.
    static func classifyDownload(_ answer: ChannelAnswer, savedBytes: Int64?, url: String, what: String)
        -> AnswerClass<Void>
    {
        guard let savedBytes else {
            if let failure = answer.statusFailure(what, detail: answer.bodySnippet) { return .failed(failure) }
            if answer.status == 404 { return .notReady("\(what): not published yet (HTTP 404 at \(url))") }
            return .failed(.permanent("\(what): HTTP \(answer.status ?? 0) at \(url): \(answer.bodySnippet)"))
        }
        if savedBytes == 0 { return .notReady("\(what): the body is empty (not published yet)") }
        return .ready(())
    }

    /// The `sha256_suffix` sidecar's answer: its first 64 characters must be the hex SHA-256 of
    /// the file downloaded (`sha256`, lowercase). Every refusal is transient: the next attempt
    /// fetches both again.
    static func classifySidecar(_ answer: ChannelAnswer, url: String, sha256: String, what: String) -> AnswerClass<
        Void
    > {
        if let failure = answer.statusFailure("sha256 sidecar") { return .failed(failure) }
        guard answer.status == 200 else {
            return .failed(.transient("sha256 sidecar: HTTP \(answer.status ?? 0) at \(url)"))
        }
        let announced = String(decoding: answer.body.prefix(64), as: UTF8.self).lowercased()
        guard announced.count == 64, announced.allSatisfy(\.isHexDigit) else {
            return .failed(.transient("sha256 sidecar at \(url) does not start with 64 hex digits"))
        }
        guard announced == sha256 else {
            return .failed(
                .transient("\(what): its SHA-256 is \(sha256) but the sidecar announces \(announced); not staged"))
        }
        return .ready(())
    }
}
