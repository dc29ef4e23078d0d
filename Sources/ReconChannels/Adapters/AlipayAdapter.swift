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
            "timestamp": LocalTime.text(LocalTime.beijingNow()), "version": "1.0",
            "biz_content": "{\"bill_type\":\"trade\",\"bill_date\":\"\(session.day)\"}",
        ]
        if let token = options.appAuthToken {
            parameters["app_auth_token"] = try session.secrets.resolve(token, for: channel.name)
        }
        parameters["sign"] = try signer.sign(AlipaySignature.content(parameters))
        let body = FormBody.encode(parameters)
        let asked = try await session.send(
            step: "download URL",
            HTTPRequest(
                method: .post, url: channel.baseURL,
                headers: ["Content-Type": "application/x-www-form-urlencoded;charset=utf-8"], body: body),
            maxBody: 64 << 10)
        if let failure = asked.transportFailure("\(what): gateway") { throw failure }
        if let failure = asked.statusFailure("\(what): gateway", detail: asked.bodySnippet) { throw failure }
        guard asked.status == 200 else {
            throw ChannelError.permanent("\(what): gateway HTTP \(asked.status ?? 0): \(asked.bodySnippet)")
        }
        let url = try downloadURL(asked, what: what, session: session)
        guard case .url(let location) = url else {
            if case .outcome(let outcome) = url { return outcome }
            throw ChannelError.transient("\(what): no download URL")
        }

        let (downloaded, path) = try await session.downloadFile(
            step: "download", HTTPRequest(url: location), name: "bill.csv.zip", maxBytes: channel.maxBillBytes)
        guard let path else {
            // Any refusal of the download (an expired URL: 410 on the mock, often 403 elsewhere)
            // means asking for a new URL (CHANNELS.md §1.1): transient.
            throw ChannelError.transient(
                "\(what): download HTTP \(downloaded.status ?? 0) (expired URL?): \(downloaded.bodySnippet)",
                retryAfter: downloaded.retryAfter)
        }
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4)) ?? nil
        guard let head, ZipArchive.looksLikeZip(head) else {
            session.discard(path)
            throw ChannelError.transient(
                "\(what): the download is not a ZIP archive (an error page?); asking for a new URL")
        }
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
        let archive = try ZipArchive(path: path, maxEntryBytes: maxBytes, maxTotalBytes: maxBytes * 2)
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

    enum Answer {
        case url(String)
        case outcome(FetchOutcome)
    }

    /// Reads the gateway's answer (errors come with HTTP 200 too) and checks its signature.
    private func downloadURL(_ result: HTTPResult, what: String, session: FetchSession) throws -> Answer {
        let body = [UInt8](result.body)
        let raw =
            AlipaySignature.rawValue(of: Self.responseKey, in: body)
            ?? AlipaySignature.rawValue(of: "error_response", in: body)
        guard let raw, let node = try? JSONDecoder().decode(Node.self, from: Data(raw)) else {
            throw ChannelError.transient("\(what): the gateway's answer has no response node")
        }
        let code = node.code ?? "-"
        let sub = node.sub_code ?? ""
        let detail = "code \(code) \(node.msg ?? "") \(sub) \(node.sub_msg ?? "")".trimmingCharacters(in: .whitespaces)
        // Gateway hiccups and limits may come unsigned: transient whatever the signature says.
        if code == "20000" || sub.hasPrefix("aop.ACL") || sub.contains("call-limited") {
            throw ChannelError.transient("\(what): \(detail)")
        }
        if let publicKey = options.alipayPublicKey {
            let verifier = try RSAVerifier(
                pem: try session.secrets.resolve(publicKey, for: session.channel.name),
                describedAs: publicKey.description)
            struct Envelope: Decodable { var sign: String? }
            let sign = (try? JSONDecoder().decode(Envelope.self, from: result.body))?.sign ?? ""
            guard verifier.isValid(signature: sign, for: String(decoding: raw, as: UTF8.self)) else {
                throw ChannelError.permanent("\(what): the gateway's answer does not verify with Alipay's public key")
            }
        }
        if code == "10000" {
            guard let url = node.bill_download_url, url.hasPrefix("http") else {
                throw ChannelError.transient("\(what): code 10000 without a usable bill_download_url")
            }
            return .url(url)
        }
        switch (code, sub) {
        case ("40004", "isp.bill_not_exist"), ("40004", "BILL_NOT_EXIST"):
            return .outcome(.noBill("\(what): \(detail)"))
        default:
            throw ChannelError.permanent("\(what): \(detail)")
        }
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
