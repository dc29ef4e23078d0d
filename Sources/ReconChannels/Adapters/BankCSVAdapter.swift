import Foundation
import ReconBills
import ReconConfig
import ReconCore
import ReconHTTP

/// `bank_csv` (CHANNELS.md §4): a flat file at a URL built from the template. `200` with the
/// file is ready (a count-0 trailer is an empty day), `404` or an empty body is not ready yet,
/// `5xx`/`429`/cuts are transient and `401`/`403` permanent. With `sha256_suffix`, the sidecar's
/// hash must match the bytes downloaded before anything is parsed.
struct BankCSVAdapter: ChannelAdapter {
    let options: BankCSVOptions

    /// A bank file larger than this is refused rather than filling the disk.
    static let maxFileBytes: Int64 = 8 << 30

    func fetch(_ session: FetchSession) async throws -> FetchOutcome {
        let channel = session.channel
        let url = options.url(merchant: channel.merchantID, day: session.day)
        var headers = HTTPHeaders()
        if let auth = options.authHeader {
            headers.append(name: auth.name, value: try session.secrets.resolve(auth.secret, for: channel.name))
        }
        let (result, path) = try await session.downloadFile(
            step: "download", HTTPRequest(url: url, headers: headers), name: "bill", maxBytes: Self.maxFileBytes)
        guard let path else {
            let what = "bank file for \(session.day)"
            if let failure = result.statusFailure(what, detail: result.bodySnippet) { throw failure }
            if result.status == 404 {
                return .notReady("\(what): not published yet (HTTP 404 at \(result.redactedURL))")
            }
            throw ChannelError.permanent(
                "\(what): HTTP \(result.status ?? 0) at \(result.redactedURL): \(result.bodySnippet)")
        }
        let bytes = FileDigest.size(path)
        if bytes == 0 {
            session.discard(path)
            return .notReady("bank file for \(session.day): the body is empty (not published yet)")
        }
        let sha256 = try await FileDigest.sha256(path: path)
        if let suffix = options.sha256Suffix {
            try await checkSidecar(session, url: url + suffix, headers: headers, sha256: sha256, path: path)
        }
        let label = "\(channel.name) bank file \(session.day)"
        let channelName = channel.name
        let day = session.day
        let compression = options.compression
        let packing = Self.packing(options)
        let maxBytes = channel.maxBillBytes
        let profile = options.profile
        return .ready(
            DownloadedBill(
                path: path, sha256: sha256, bytes: bytes,
                fileExtension: compression == .none ? "csv" : "csv.\(compression.rawValue)"
            ) { path, emit in
                try Self.parse(
                    path, label: label, channel: channelName, day: day, profile: profile, packing: packing,
                    maxBytes: maxBytes, emit: emit)
            })
    }

    static func parse(
        _ path: String, label: String, channel: String, day: LocalDay, profile: BankCSVProfile,
        packing: BillUnpacker.Packing,
        maxBytes: Int64, emit: (BillLine) throws -> Void
    ) throws -> BillSummary {
        var parser = BankCSVParser(file: label, channel: channel, billDate: day, profile: profile)
        try BillUnpacker.forEachChunk(path, packing: packing, maxBytes: maxBytes, label: label) { chunk in
            try parser.feed(chunk, emit: emit)
        }
        try parser.finish(emit: emit)
        return parser.summary
    }

    static func packing(_ options: BankCSVOptions) -> BillUnpacker.Packing {
        switch options.compression {
        case .none: .none
        case .gzip: .gzip
        case .zip: .zip(entryGlob: options.zipEntry ?? "*")
        }
    }

    private func checkSidecar(_ session: FetchSession, url: String, headers: HTTPHeaders, sha256: String, path: String)
        async throws
    {
        let result = try await session.send(
            step: "sha256 sidecar", HTTPRequest(url: url, headers: headers), maxBody: 4096)
        if let failure = result.transportFailure("sha256 sidecar") { throw failure }
        if let failure = result.statusFailure("sha256 sidecar") { throw failure }
        guard result.status == 200 else {
            throw ChannelError.transient("sha256 sidecar: HTTP \(result.status ?? 0) at \(result.redactedURL)")
        }
        let announced = String(decoding: result.body.prefix(64), as: UTF8.self).lowercased()
        guard announced.count == 64, announced.allSatisfy(\.isHexDigit) else {
            throw ChannelError.transient("sha256 sidecar at \(result.redactedURL) does not start with 64 hex digits")
        }
        guard announced == sha256 else {
            session.discard(path)
            throw ChannelError.transient(
                "bank file for \(session.day): its SHA-256 is \(sha256) but the sidecar announces \(announced); not staged"
            )
        }
    }
}
