import Foundation
import ReconArchive
import ReconBills
import ReconBlocking
import ReconConfig
import ReconCore
import ReconHTTP

/// UnionPay online payments, file transfer (CHANNELS.md §3): one signed POST (`txnType=76`) whose
/// answer carries the day's ZIP as base64(zlib(ZIP)); the `ZM_` entry is the fixed-width detail
/// file. There is no hash and no totals line: integrity is strict base64, zlib's Adler-32, the
/// ZIP's CRC-32, every record exactly 607 bytes, and the merId in every record. With `root_cert`
/// set, every answer must also pass `UnionPayAnswerVerifier` before anything in it is acted on.
struct UnionPayAdapter: ChannelAdapter {
    let options: UnionPayOptions

    func fetch(_ session: FetchSession) async throws -> FetchOutcome {
        let channel = session.channel
        let what = "UnionPay settlement file for \(session.day)"
        let signer = try RSASigner(
            pem: try session.secrets.resolve(options.privateKey, for: channel.name),
            describedAs: options.privateKey.description)
        let verifier = try UnionPayAnswerVerifier.configured(options, secrets: session.secrets, channel: channel.name)
        let settleDate = String(session.day.description.dropFirst(5)).replacingOccurrences(of: "-", with: "")
        var fields = [
            "version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "certId": options.certificateID,
            "txnType": "76",
            "txnSubType": "01", "bizType": "000000", "accessType": "0", "merId": channel.merchantID,
            "settleDate": settleDate,
            "txnTime": LocalTime.text(session.beijingSeconds).filter(\.isNumber), "fileType": "00",
        ]
        fields["signature"] = try UnionPaySignature.sign(fields, with: signer)
        let body = FormBody.encode(fields)
        let request = HTTPRequest(
            method: .post, url: channel.baseURL,
            headers: ["Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"],
            body: body)
        // The answer holds the whole file: streamed to disk, never kept in memory.
        let (result, path) = try await session.downloadFile(
            step: "file transfer", request, name: "response.txt", maxBytes: channel.maxBillBytes * 2, resumable: false)
        if case .end(let outcome) = try Self.classifyTransfer(result.answer, what: what).step() { return outcome }
        guard let path else { throw ChannelError.transient("\(what): the answer left no file") }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let label = "\(channel.name) UnionPay file \(session.day)"
        let zipPath = session.workFolder + "/bill.zip"
        var response: UnionPayResponse
        do {
            let maxBytes = channel.maxBillBytes
            // Decoding and inflating the whole answer runs on a thread of our own.
            response = try await BlockingExecutor.shared.run {
                try UnionPayResponse.read(path, zipTo: zipPath, maxBytes: maxBytes, label: label)
            }
        } catch let failure as UnionPayResponse.DecodeFailure {
            session.discard(zipPath)
            if let refusal = Self.classifyUndecodable(
                respCode: failure.response.fields["respCode"], reason: failure.reason,
                wholeAnswer: failure.wholeAnswer, verifying: verifier != nil, what: what)
            {
                throw refusal
            }
            response = failure.response
        }
        if let verifier {
            do {
                try await verifier.verify(response, answerFile: path)
            } catch let refusal as UnionPayAnswerVerifier.Refusal {
                // As WeChat's signature mismatch: no retry makes a wrong signature right.
                session.discard(zipPath)
                throw ChannelError.permanent("\(label): UnionPay's answer is refused, \(refusal); not staged")
            }
        }
        let verdict = Self.classify(
            fields: response.fields, hadFile: response.hadFile, settleDate: settleDate, attempt: session.attempt,
            what: what)
        if verdict.kind != .ready { session.discard(zipPath) }
        if case .end(let outcome) = try verdict.step() { return outcome }
        let (channelName, day, maxBytes, merchant) = (
            channel.name, session.day, channel.maxBillBytes, channel.merchantID
        )
        return .ready(
            try await DownloadedBill.measuring(path: zipPath, fileExtension: "zip") { path, emit in
                try Self.parse(
                    path, label: label, channel: channelName, day: day, merchantID: merchant, maxBytes: maxBytes,
                    emit: emit)
            })
    }

    /// The one `ZM_` entry (never `ZME_`) of the day's ZIP, parsed.
    static func parse(
        _ path: String, label: String, channel: String, day: LocalDay, merchantID: String, maxBytes: Int64,
        emit: (BillLine) throws -> Void
    ) throws -> BillSummary {
        let archive = try ZipArchive(
            path: path, maxEntryBytes: maxBytes, maxTotalBytes: maxBytes * 4, legacyNames: ZipArchive.gbkNames)
        let details = archive.entries.filter { $0.name.contains("ZM_") && !$0.name.contains("ZME_") }
        guard details.count == 1, let entry = details.first else {
            throw BillError(
                file: label, line: nil, column: nil, check: "archive",
                reason: "\(details.count) ZM_ entries; exactly one must be there (\(archive.entries.map(\.name)))")
        }
        var parser = UnionPayZMParser(
            file: "\(label) \(entry.name)", channel: channel, billDate: day, merchantID: merchantID)
        try archive.read(entry) { chunk in try parser.feed(chunk, emit: emit) }
        try parser.finish(emit: emit)
        return parser.summary
    }
}
