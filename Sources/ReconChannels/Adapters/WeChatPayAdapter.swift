import Crypto
import Foundation
import ReconBills
import ReconConfig
import ReconCore
import ReconHTTP

/// WeChat Pay API v3 trade bill (CHANNELS.md §2): apply for the bill of a date, then download it
/// from the URL the API returned, gunzip it, and check its SHA-1 against the announced hash before
/// parsing. Only WeChat tells "not published yet" (STATEMENT_CREATING) from "no business"
/// (NO_STATEMENT_EXIST) on the wire.
struct WeChatPayAdapter: ChannelAdapter {
    let options: WeChatPayOptions

    struct Application: Decodable {
        var hash_type: String?
        var hash_value: String?
        var download_url: String?
    }

    struct APIError: Decodable {
        var code: String?
        var message: String?
    }

    func fetch(_ session: FetchSession) async throws -> FetchOutcome {
        let channel = session.channel
        let signer = try RSASigner(
            pem: try session.secrets.resolve(options.privateKey, for: channel.name),
            describedAs: options.privateKey.description)
        let authorization = WeChatPayAuthorization(
            merchantID: channel.merchantID, certificateSerial: options.certificateSerial, signer: signer)
        let verifier = try options.platformPublicKey.map {
            try RSAVerifier(pem: try session.secrets.resolve($0, for: channel.name), describedAs: $0.description)
        }
        let base = channel.baseURL.hasSuffix("/") ? String(channel.baseURL.dropLast()) : channel.baseURL
        let url = "\(base)/v3/bill/tradebill?bill_date=\(session.day)&bill_type=ALL&tar_type=GZIP"
        let what = "WeChat Pay trade bill for \(session.day)"

        // Step 1: apply for the bill.
        let applied = try await session.send(
            step: "apply", try request(url, authorization, session: session), maxBody: 64 << 10)
        if let failure = applied.transportFailure("\(what): apply") { throw failure }
        let application: BillApplication
        switch try Self.classifyApply(applied.answer, verifier: verifier, what: what).step() {
        case .next(let value): application = value
        case .end(let outcome): return outcome
        }
        let hash = application.sha1

        // Step 2: download exactly the URL given (it expires after 30 s), signed like the API call.
        let (downloaded, path) = try await session.downloadFile(
            step: "download", try request(application.downloadURL, authorization, session: session),
            name: "bill.csv.gz", maxBytes: channel.maxBillBytes)
        if case .end(let outcome) = try Self.classifyDownload(downloaded.answer, saved: path != nil, what: what).step()
        {
            return outcome
        }
        guard let path else { throw ChannelError.transient("\(what): the download left no file") }

        // One pass over the gunzipped bytes both hashes and parses them: a SHA-1 that differs from
        // the announced one refuses the bill (and outranks any parse error, since wrong bytes
        // explain it), so nothing reaches staging unverified.
        let label = "\(channel.name) WeChat bill \(session.day)"
        let channelName = channel.name
        let merchant = channel.merchantID
        let day = session.day
        let maxBytes = channel.maxBillBytes
        let expected: (String, String) = (hash, what)
        return .ready(
            try await DownloadedBill.measuring(path: path, fileExtension: "csv.gz") { path, emit in
                try Self.parse(
                    path, label: label, channel: channelName, day: day, merchantID: merchant, maxBytes: maxBytes,
                    expectedSHA1: expected, emit: emit)
            })
    }

    /// Gunzips and parses the bill in one pass; with `expectedSHA1`, the gunzipped bytes' SHA-1
    /// must match (and a mismatch outranks any parse error, since wrong bytes explain it).
    static func parse(
        _ path: String, label: String, channel: String, day: LocalDay, merchantID: String, maxBytes: Int64,
        expectedSHA1: (hash: String, what: String)?, emit: (BillLine) throws -> Void
    ) throws -> BillSummary {
        var parser = WeChatBillParser(file: label, channel: channel, billDate: day, merchantID: merchantID)
        var hasher = Insecure.SHA1()
        var parseError: (any Error)?
        try BillUnpacker.forEachChunk(path, packing: .gzip, maxBytes: maxBytes, label: label) { chunk in
            if expectedSHA1 != nil { hasher.update(bufferPointer: chunk) }
            guard parseError == nil else { return }
            do { try parser.feed(chunk, emit: emit) } catch { parseError = error }
        }
        if let expectedSHA1 {
            let actual = FileDigest.hex(hasher.finalize())
            guard actual == expectedSHA1.hash else {
                // Staging wraps this in "refused, nothing staged", so it does not say so itself.
                throw ChannelError.transient(
                    "\(expectedSHA1.what): SHA-1 of the bill is \(actual) but the API announced \(expectedSHA1.hash)")
            }
        }
        if let parseError { throw parseError }
        try parser.finish(emit: emit)
        return parser.summary
    }

    /// A signed GET of `url`, timestamped by the session's clock.
    private func request(_ url: String, _ authorization: WeChatPayAuthorization, session: FetchSession) throws
        -> HTTPRequest
    {
        let timestamp = session.unixSeconds
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        return HTTPRequest(
            url: url,
            headers: [
                "Accept": "application/json",
                "Authorization": try authorization.header(method: "GET", url: url, timestamp: timestamp, nonce: nonce),
            ])
    }

    /// Checks `Wechatpay-Signature` over `timestamp\nnonce\nbody\n` with the platform key, after
    /// `Wechatpay-Signature-Type` says that is how it was signed (SM2 answers exist; an answer that
    /// names no type is not one we can trust either).
    static func verify(_ result: ChannelAnswer, with verifier: RSAVerifier, what: String) throws(ChannelError) {
        let signatureType = result.headers["Wechatpay-Signature-Type"]
        guard signatureType == "WECHATPAY2-SHA256-RSA2048" else {
            throw ChannelError.permanent(
                "\(what): the answer's Wechatpay-Signature-Type is "
                    + (signatureType.map { "'\($0.prefix(64))'" } ?? "missing")
                    + ", expected WECHATPAY2-SHA256-RSA2048; not verified, nothing staged")
        }
        guard let signature = result.headers["Wechatpay-Signature"],
            let timestamp = result.headers["Wechatpay-Timestamp"],
            let nonce = result.headers["Wechatpay-Nonce"]
        else {
            throw ChannelError.permanent("\(what): the answer is not signed (no Wechatpay-Signature headers)")
        }
        let message = WeChatPayAuthorization.responseMessage(
            timestamp: timestamp, nonce: nonce, body: String(decoding: result.body, as: UTF8.self))
        guard verifier.isValid(signature: signature, for: message) else {
            throw ChannelError.permanent(
                "\(what): the answer's Wechatpay-Signature does not verify with the platform key")
        }
    }
}
