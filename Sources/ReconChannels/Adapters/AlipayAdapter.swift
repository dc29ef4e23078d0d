import Foundation
import ReconArchive
import ReconBills
import ReconConfig
import ReconCore
import ReconHTTP

/// Alipay's daily trade bill (CHANNELS.md §1): ask the gateway for a download URL
/// (`alipay.data.dataservice.bill.downloadurl.query`, signed RSA2), download the ZIP it points to,
/// and parse its GBK details file against its summary file. Integrity is the ZIP's CRC-32 per
/// entry, the details' footers and the summary's 合计 row: Alipay announces no hash.
struct AlipayAdapter: ChannelAdapter {
    let options: AlipayOptions
    static let method = "alipay.data.dataservice.bill.downloadurl.query"
    static let responseKey = "alipay_data_dataservice_bill_downloadurl_query_response"

    struct Node: Decodable {
        var code: String?
        var msg: String?
        var sub_code: String?
        var sub_msg: String?
        var bill_download_url: String?
    }

    func fetch(_ session: FetchSession) async throws -> FetchOutcome {
        let channel = session.channel
        let what = "Alipay trade bill for \(session.day)"
        let signer = try RSASigner(
            pem: try session.secrets.resolve(options.privateKey, for: channel.name),
            describedAs: options.privateKey.description)
        var parameters = [
            "app_id": options.appID, "method": Self.method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
            "timestamp": LocalTime.text(session.beijingSeconds), "version": "1.0",
            "biz_content": "{\"bill_type\":\"trade\",\"bill_date\":\"\(session.day)\"}",
        ]
        if let token = options.appAuthToken {
            parameters["app_auth_token"] = try session.secrets.resolve(token, for: channel.name)
        }
        parameters["sign"] = try signer.sign(AlipaySignature.content(parameters))
        let verifier = try options.alipayPublicKey.map {
            try RSAVerifier(pem: try session.secrets.resolve($0, for: channel.name), describedAs: $0.description)
        }
        let asked = try await session.send(
            step: "download URL",
            HTTPRequest(
                method: .post, url: channel.baseURL,
                headers: ["Content-Type": "application/x-www-form-urlencoded;charset=utf-8"],
                body: FormBody.encode(parameters)),
            maxBody: 64 << 10)
        if let failure = asked.transportFailure("\(what): gateway") { throw failure }
        let location: String
        switch try Self.classifyGateway(asked.answer, verifier: verifier, what: what).step() {
        case .next(let url): location = url
        case .end(let outcome): return outcome
        }

        let (downloaded, path) = try await session.downloadFile(
            step: "download", HTTPRequest(url: location), name: "bill.csv.zip", maxBytes: channel.maxBillBytes)
        let head = path.map {
            [UInt8]((try? FileHandle(forReadingFrom: URL(fileURLWithPath: $0)).read(upToCount: 4)) ?? Data())
        }
        let download = Self.classifyDownload(downloaded.answer, fileHead: head, what: what)
        if case .failed = download { session.discard(path) }
        if case .end(let outcome) = try download.step() { return outcome }
        guard let path else { throw ChannelError.transient("\(what): the download left no file") }
        let label = "\(channel.name) Alipay bill \(session.day)"
        let (channelName, day, maxBytes) = (channel.name, session.day, channel.maxBillBytes)
        let account = channel.merchantID + "0156"
        return .ready(
            try await DownloadedBill.measuring(path: path, fileExtension: "csv.zip") { path, emit in
                try Self.parse(
                    path, label: label, channel: channelName, day: day, accountID: account, maxBytes: maxBytes,
                    emit: emit)
            })
    }

    /// The details entry parsed and checked against the summary entry.
    static func parse(
        _ path: String, label: String, channel: String, day: LocalDay, accountID: String, maxBytes: Int64,
        emit: (BillLine) throws -> Void
    ) throws -> BillSummary {
        let archive = try ZipArchive(
            path: path, maxEntryBytes: maxBytes, maxTotalBytes: maxBytes * 2, legacyNames: ZipArchive.gbkNames)
        let details = try entry(in: archive, suffix: "_业务明细.csv", label: label)
        let summaryEntry = try entry(in: archive, suffix: "(汇总).csv", label: label)
        // The summary is a few lines per store: read whole, but never more than 16 MiB of it.
        guard summaryEntry.uncompressedSize <= 16 << 20 else {
            throw BillError(
                file: label, line: nil, column: nil, check: "archive", reason: "the summary entry is over 16 MiB")
        }
        var summaryBytes: [UInt8] = []
        try archive.read(summaryEntry) { summaryBytes.append(contentsOf: $0) }
        let summary = try AlipaySummary.parse(summaryBytes, file: "\(label) \(name(summaryEntry))")
        var parser = AlipayDetailsParser(
            file: "\(label) \(name(details))", channel: channel, billDate: day, accountID: accountID)
        try archive.read(details) { chunk in try parser.feed(chunk, emit: emit) }
        try parser.finish(emit: emit)
        try parser.check(against: summary)
        return parser.summary
    }

    /// The one entry whose GBK-decoded name ends with `suffix`.
    static func entry(in archive: ZipArchive, suffix: String, label: String) throws -> ZipEntry {
        let matches = archive.entries.filter { (try? GBK.decode($0.nameBytes))?.hasSuffix(suffix) == true }
        guard matches.count == 1, let entry = matches.first else {
            throw BillError(
                file: label, line: nil, column: nil, check: "archive",
                reason:
                    "\(matches.count) entries end with \(suffix); exactly one must (the archive holds \(archive.entries.count))"
            )
        }
        return entry
    }

    static func name(_ entry: ZipEntry) -> String { (try? GBK.decode(entry.nameBytes)) ?? entry.name }
}
