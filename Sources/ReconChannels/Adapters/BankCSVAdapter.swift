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
        let what = "bank file for \(session.day)"
        let bytes = path.map(FileDigest.size)
        let download = Self.classifyDownload(result.answer, savedBytes: bytes, url: result.redactedURL, what: what)
        if case .notReady = download { session.discard(path) }
        if case .end(let outcome) = try download.step() { return outcome }
        guard let path, let bytes else { throw ChannelError.transient("\(what): the download left no file") }
        let sha256 = try await FileDigest.sha256(path: path)
        if let suffix = options.sha256Suffix {
            let sidecar = url + suffix
            let result = try await session.send(
                step: "sha256 sidecar", HTTPRequest(url: sidecar, headers: headers), maxBody: 4096)
            if let failure = result.transportFailure("sha256 sidecar") { throw failure }
            let verdict = Self.classifySidecar(result.answer, url: result.redactedURL, sha256: sha256, what: what)
            if case .failed = verdict { session.discard(path) }
            if case .end(let outcome) = try verdict.step() { return outcome }
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
}
