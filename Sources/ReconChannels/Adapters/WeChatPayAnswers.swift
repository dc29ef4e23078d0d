import Foundation

/// How WeChat Pay's answers are classified (CHANNELS.md §2.1, §2.2 and §5), as pure functions of
/// what came back: the adapter calls them between its network calls and keeps only the I/O.
extension WeChatPayAdapter {
    /// What applying for the bill gave: where to download it (valid for 30 s) and the SHA-1 of
    /// its uncompressed bytes, lowercase hex.
    struct BillApplication: Sendable, Equatable {
        var downloadURL: String
        var sha1: String
    }

    /// The apply call's answer, its signature checked with the platform key when one is
    /// configured: the bill's URL and hash, not published yet, no business, or a failure.
    static func classifyApply(_ answer: ChannelAnswer, verifier: RSAVerifier?, what: String) -> AnswerClass<
        BillApplication
    > {
        // A 429 or 5xx may come from a proxy in front of WeChat, unsigned: transient, checked first.
        if let status = answer.status, status == 429 || status >= 500 { return classifyError(answer, what: what) }
        if let verifier {
            do {
                try verify(answer, with: verifier, what: what)
            } catch {
                return .failed(error)
            }
        }
        guard answer.status == 200 else { return classifyError(answer, what: what) }
        guard let application = try? JSONDecoder().decode(Application.self, from: answer.body),
            let downloadURL = application.download_url, let hash = application.hash_value?.lowercased()
        else {
            // The body is not quoted: it may hold a download token.
            return .failed(.transient("\(what): the apply answer lacks download_url or hash_value"))
        }
        guard application.hash_type?.uppercased() == "SHA1", hash.count == 40, hash.allSatisfy(\.isHexDigit) else {
            return .failed(
                .permanent("\(what): unexpected hash \(application.hash_type ?? "-") \(hash) (expected SHA1)"))
        }
        return .ready(BillApplication(downloadURL: downloadURL, sha1: hash))
    }

    /// The apply call's error answers (CHANNELS.md §2.1 table).
    static func classifyError(_ answer: ChannelAnswer, what: String) -> AnswerClass<BillApplication> {
        let error = try? JSONDecoder().decode(APIError.self, from: answer.body)
        let code = error?.code ?? "-"
        let detail = "\(code) \(error?.message ?? answer.bodySnippet)"
        switch (answer.status ?? 0, code) {
        case (400, "STATEMENT_CREATING"): return .notReady("\(what): \(detail)")
        case (400, "NO_STATEMENT_EXIST"): return .emptyDay("\(what): \(detail)")
        case (429, _), (500...599, _):
            return .failed(answer.statusFailure("\(what): apply", detail: detail) ?? .transient("\(what): \(detail)"))
        default:
            return .failed(.permanent("\(what): HTTP \(answer.status ?? 0) \(detail)"))
        }
    }

    /// The download's answer (not signed, CHANNELS.md §2.2): `saved` when a 2xx answer went to the
    /// file. An expired or used URL (400 INVALID_REQUEST) means applying again: transient.
    static func classifyDownload(_ answer: ChannelAnswer, saved: Bool, what: String) -> AnswerClass<Void> {
        if saved { return .ready(()) }
        if let failure = answer.statusFailure("\(what): download", detail: answer.bodySnippet) {
            return .failed(failure)
        }
        let code = (try? JSONDecoder().decode(APIError.self, from: answer.body))?.code ?? ""
        if answer.status == 400, code == "INVALID_REQUEST" {
            return .failed(
                .transient("\(what): the download URL expired or was used (400 INVALID_REQUEST); applying again"))
        }
        return .failed(.permanent("\(what): download HTTP \(answer.status ?? 0) \(code): \(answer.bodySnippet)"))
    }
}
