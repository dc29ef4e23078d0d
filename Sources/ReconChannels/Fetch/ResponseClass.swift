public import Foundation
import Logging
public import ReconHTTP

/// The classes every channel shares for what HTTP itself says (CHANNELS.md §5): a transfer that
/// did not finish and 429/5xx are transient; 401/403 are permanent. Channel codes come after, in
/// each adapter's classifier.
extension HTTPResult {
    /// A failure of the transfer itself (timeout, refused, cut, too slow), or nil if it finished.
    public func transportFailure(_ what: String) -> ChannelError? {
        switch outcome {
        case .completed:
            return nil
        case .cancelled:
            return .transient("\(what): cancelled")
        case .bodyTooLarge:
            return .permanent("\(what): the answer is larger than the cap (\(redactedURL))")
        default:
            return .transient("\(what): \(curlMessage.isEmpty ? "\(outcome)" : curlMessage) (\(redactedURL))")
        }
    }

    /// What came back, as the adapters' classifiers take it.
    public var answer: ChannelAnswer { ChannelAnswer(status: status, headers: headers, body: body) }
}

/// One answer of a channel as its adapter classifies it: the status, the headers and the body (a
/// download's non-2xx body; a 2xx body went to a file, which the classifier is told about apart).
public struct ChannelAnswer: Sendable {
    public var status: Int?
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int?, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// 429 and 5xx (transient, honouring Retry-After) or 401/403 (permanent); nil otherwise.
    public func statusFailure(_ what: String, detail: String = "") -> ChannelError? {
        guard let status else { return nil }
        let suffix = detail.isEmpty ? "" : ": \(detail)"
        switch status {
        case 429:
            return .transient("\(what): HTTP 429, rate limited by the channel\(suffix)", retryAfter: retryAfter)
        case 500...599:
            return .transient("\(what): HTTP \(status)\(suffix)", retryAfter: retryAfter)
        case 401, 403:
            return .permanent("\(what): HTTP \(status), the channel refused our credentials\(suffix)")
        default:
            return nil
        }
    }

    /// `Retry-After` in seconds (the HTTP-date form is rare from these APIs; it counts as a minute),
    /// capped at an hour so a wild value cannot park a bill for days.
    public var retryAfter: Duration? {
        guard let text = headers["Retry-After"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Int64(text), seconds >= 0 { return .seconds(min(seconds, 3600)) }
        return .seconds(60)
    }

    /// The body as text for messages: at most 300 characters, never a whole HTML page, and never
    /// a signature or certificate (a JSON `"sign"` or a form's `signature=` shows as `…`).
    public var bodySnippet: String {
        let text = String(decoding: body.prefix(16 * 1024), as: UTF8.self)
            .replacing(#/"(sign|signature|signPubKeyCert)"\s*:\s*"[^"]*"?/#) { "\"\($0.output.1)\":\"…\"" }
            .replacing(#/(^|[&?\s])(sign|signature|signPubKeyCert)=[^&]*/#) { "\($0.output.1)\($0.output.2)=…" }
        return String(text.prefix(300)).replacingOccurrences(of: "\n", with: " ").replacingOccurrences(
            of: "\r", with: "")
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// The class of an answer without what it carries (CHANNELS.md §5's columns).
public enum AnswerKind: Sendable, Equatable {
    case ready, notReady, emptyDay, noBill, transient, permanent
}

/// What one answer means, in the classes of CHANNELS.md §5: decided by an adapter's pure
/// classifier from the answer alone, between the adapter's network calls. `ready` carries what
/// the next step needs (a download URL, an announced hash), or nothing.
public enum AnswerClass<Ready: Sendable>: Sendable {
    case ready(Ready)
    /// Not published yet (snooze, no attempt used).
    case notReady(String)
    /// No business that day: a valid bill with no lines.
    case emptyDay(String)
    /// Alipay's and UnionPay's ambiguous "no bill": decided with our own ledger.
    case noBill(String)
    /// Transient (retry, honouring Retry-After) or permanent (dead at once).
    case failed(ChannelError)

    public var kind: AnswerKind {
        switch self {
        case .ready: return .ready
        case .notReady: return .notReady
        case .emptyDay: return .emptyDay
        case .noBill: return .noBill
        case .failed(.transient): return .transient
        case .failed(.permanent): return .permanent
        }
    }

    /// The words of any class but `ready` (what the log or the job's error says).
    public var message: String? {
        switch self {
        case .ready: return nil
        case .notReady(let text), .emptyDay(let text), .noBill(let text): return text
        case .failed(let error): return error.description
        }
    }

    /// The channel's Retry-After, for a transient failure that came with one.
    public var retryAfter: Duration? {
        guard case .failed(.transient(_, let retryAfter)) = self else { return nil }
        return retryAfter
    }

    public enum Step: Sendable {
        case next(Ready)
        case end(FetchOutcome)
    }

    /// Goes on with `ready`'s value, or ends the fetch here: an outcome to return, or the failure
    /// thrown.
    public func step() throws(ChannelError) -> Step {
        switch self {
        case .ready(let value): return .next(value)
        case .notReady(let text): return .end(.notReady(text))
        case .emptyDay(let text): return .end(.emptyDay(text))
        case .noBill(let text): return .end(.noBill(text))
        case .failed(let error): throw error
        }
    }
}

extension FetchSession {
    /// Downloads `request` into `<work>/<name>`: streamed into `<name>.part`, resumed with Range
    /// after a cut (up to 3 times in this attempt, and again by the next attempt, which finds the
    /// part file), renamed to `name` only once the transfer completed with a 2xx. A non-2xx answer
    /// is returned for the adapter to classify.
    ///
    /// Beside the part file, `<name>.part.validator` holds the validator (strong ETag, else
    /// Last-Modified) of the answer its bytes came from, and goes out as If-Range with every
    /// resume: a file the channel replaced in between then comes whole (200), never mixed with
    /// the old bytes. A part file without one is not resumed by a later attempt.
    public func downloadFile(
        step: String, _ request: HTTPRequest, name: String, maxBytes: Int64, resumable: Bool = true
    )
        async throws -> (result: HTTPResult, path: String?)
    {
        try FileManager.default.createDirectory(atPath: workFolder, withIntermediateDirectories: true)
        let partial = workFolder + "/" + name + ".part"
        let final = workFolder + "/" + name
        let validatorFile = partial + ".validator"
        try? FileManager.default.removeItem(atPath: final)
        // A POST answer cannot be resumed, and bytes of an unknown entity are not worth the risk of
        // a mix: either starts afresh.
        var validator = resumable ? Self.readValidator(validatorFile) : nil
        if validator == nil {
            try? FileManager.default.removeItem(atPath: partial)
            try? FileManager.default.removeItem(atPath: validatorFile)
        }
        var resumes = 0
        while true {
            let resume = resumable && FileManager.default.fileExists(atPath: partial)
            // Until the transfer ends the part file may take bytes of another entity than the
            // validator names; a crash meanwhile must leave no validator behind.
            try? FileManager.default.removeItem(atPath: validatorFile)
            let result = try await download(
                step: step, request, to: partial, resume: resume, ifRange: resume ? validator : nil, maxBytes: maxBytes)
            if let status = result.status, (200..<300).contains(status), result.resumedFrom == 0 {
                // The part file now starts with this answer's body: its validator is the one to keep.
                validator = RangeValidator.of(result.headers)
            }
            if resumable, let validator, FileManager.default.fileExists(atPath: partial) {
                keepValidator(validator, in: validatorFile)
            }
            if resumable, result.outcome == .cutOff || result.outcome == .timedOut || result.outcome == .lowSpeedAbort,
                resumes < 3
            {
                resumes += 1
                logger.info(
                    "download cut short; resuming", metadata: ["step": "\(step)", "bytes": "\(result.bytesReceived)"])
                try await Task.sleep(for: .milliseconds(200 * resumes))
                continue
            }
            if let failure = result.transportFailure(step) { throw failure }
            // 416: the part file is not a prefix of what the server has now (a crash came between
            // the last byte and the rename, or the file changed with no validator to tell). Start
            // again from zero, once.
            if result.status == 416, resume, resumes < 3 {
                resumes = 3
                validator = nil
                try? FileManager.default.removeItem(atPath: partial)
                try? FileManager.default.removeItem(atPath: validatorFile)
                continue
            }
            guard let status = result.status, (200..<300).contains(status) else { return (result, nil) }
            guard rename(partial, final) == 0 else {
                throw ChannelError.transient("\(step): cannot rename the finished download in \(workFolder)")
            }
            try? FileManager.default.removeItem(atPath: validatorFile)
            return (result, final)
        }
    }

    /// Forgets a download that failed verification, so the next attempt fetches it afresh.
    public func discard(_ path: String?) {
        guard let path else { return }
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".part")
        try? FileManager.default.removeItem(atPath: path + ".part.validator")
    }

    /// The validator an earlier transfer recorded, if it is there and fit to send.
    private static func readValidator(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 512 else { return nil }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return RangeValidator.isSendable(value) ? value : nil
    }

    /// Writes the validator beside the part file; if that fails, the next attempt starts afresh.
    private func keepValidator(_ validator: String, in path: String) {
        do {
            try Data((validator + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            logger.warning(
                "cannot record the download's validator; a later attempt will start from zero",
                metadata: ["file": "\(path)"])
        }
    }
}
