import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconArchive
import ReconCore

/// UnionPay file transfer (CHANNELS.md §3): `POST /` (the root, as at filedownload.95516.com) with
/// `txnType=76` answers `k=v&…` whose `fileContent` is base64(zlib(ZIP)) holding the `ZM_` detail
/// file and an empty `ZME_` file. The year of `settleDate` (MMDD) is the latest one not after
/// tomorrow. With `<data>/unionpay/<merId>/merchant_public_key.pem`, the 5.1.0 signature is
/// checked. Every answer is signed as UnionPay signs it (`MockUnionPaySigner`).
struct UnionPayRoutes: Sendable {
    let store: MockBillStore
    let faults: FaultPlan
    let stats: MockStats
    let files: FileResponder
    let signer: MockUnionPaySigner

    func register(on router: Router<BasicRequestContext>) {
        router.post("/") { request, _ in try await self.transfer(request) }
    }

    private func transfer(_ request: Request) async throws -> Response {
        stats.enter("unionpay")
        let form: [String: String]
        do {
            form = try await FormBody.parse(request)
        } catch {
            stats.leave("unionpay")
            throw error
        }
        func answer(_ code: String, _ message: String, badSignature: Bool = false) throws -> Response {
            stats.leave("unionpay")
            let text = try signer.answer(
                ["respCode": code, "respMsg": message, "merId": form["merId"] ?? "", "txnType": "76"],
                badSignature: badSignature)
            return Response(
                status: .ok, headers: [.contentType: "text/plain;charset=UTF-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        guard form["txnType"] == "76", form["version"] == "5.1.0", let merId = form["merId"], merId.count == 15,
            merId.allSatisfy(\.isNumber), let settleDate = form["settleDate"], let signature = form["signature"]
        else { return try answer("13", "报文格式错误或缺少字段") }
        if let pem = try? String(
            contentsOfFile: "\(store.folder)/unionpay/\(merId)/merchant_public_key.pem", encoding: .utf8)
        {
            let content = form.filter { $0.key != "signature" }
                .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
                .map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            guard MockSigningKey.verify(signature: signature, of: MockDigest.sha256(text: content), publicKeyPEM: pem)
            else {
                return try answer("11", "验证签名失败")
            }
        }
        guard let day = Self.day(settleDate) else { return try answer("10", "settleDate 格式错误") }
        let date = day.description
        if let fault = faults.take(
            channel: "unionpay", date: date, kinds: [.fail503, .rateLimit429, .notReady, .authError])
        {
            switch fault.kind {
            case .fail503:
                stats.leave("unionpay")
                return Response(status: .serviceUnavailable)
            case .rateLimit429:
                stats.leave("unionpay")
                return Response(
                    status: .tooManyRequests, headers: [HTTPField.Name.retryAfter: "\(fault.argument ?? 1)"])
            case .authError: return try answer("11", "验证签名失败")
            default: return try answer("98", "文件不存在")
            }
        }
        let tampered = faults.take(channel: "unionpay", date: date, kinds: [.badSignature]) != nil
        if faults.contains(channel: "unionpay", date: date, kind: .noBusiness) {
            return try answer("98", "文件不存在", badSignature: tampered)
        }
        let corrupt = faults.take(channel: "unionpay", date: date, kinds: [.corruptArchive]) != nil
        let response: String
        do {
            response = try self.response(
                merId: merId, day: day, settleDate: settleDate, corrupt: corrupt, badSignature: tampered)
        } catch {
            stats.leave("unionpay")
            throw error
        }
        let fault = faults.take(channel: "unionpay", date: date, kinds: [.cutBody, .truncatedBody, .slow])
        return files.respond(
            file: response, channel: "unionpay", request: request, fault: fault, contentType: "text/plain;charset=UTF-8"
        )
    }

    /// The answer file: the fields, then `fileContent` streamed as base64 of the zlib'd ZIP, signed.
    private func response(merId: String, day: LocalDay, settleDate: String, corrupt: Bool, badSignature: Bool) throws
        -> String
    {
        let compact = MockBillStore.compact(day)
        let short = String(compact.dropFirst(2))
        let zm = try store.file(at: store.path(channel: "unionpay", merchant: merId, day: day, ext: "zm")) {
            try MockBills.write(
                .unionpay(merchantID: merId), to: $0, merchant: merId, day: day, lines: store.linesPerDay)
        }
        let zme = store.path(channel: "unionpay", merchant: merId, day: day, ext: "zme")
        if !FileManager.default.fileExists(atPath: zme) {
            _ = FileManager.default.createFile(atPath: zme, contents: Data())
        }
        let zip = try store.file(at: store.path(channel: "unionpay", merchant: merId, day: day, ext: "zip")) {
            try MockPacking.zip(
                [(Array("INN\(short)01ZM_\(merId)".utf8), zm), (Array("INN\(short)01ZME_\(merId)".utf8), zme)], to: $0)
            return nil
        }
        let zlib = try store.file(at: store.path(channel: "unionpay", merchant: merId, day: day, ext: "zip.z")) {
            try MockPacking.pack(zip, to: $0, format: .zlib)
            return nil
        }
        let base64 = try store.file(
            at: store.path(channel: "unionpay", merchant: merId, day: day, ext: corrupt ? "corrupt.b64" : "b64")
        ) {
            try Self.writeBase64(of: zlib, to: $0, corrupt: corrupt)
            return nil
        }
        // Named by the signer's tag: an answer cached by an earlier start carries another
        // certificate, so it is of no use now and goes.
        let kind = (corrupt ? "corrupt-" : "") + (badSignature ? "bad-signature-" : "") + "response"
        let answer = store.path(channel: "unionpay", merchant: merId, day: day, ext: "\(kind)-\(signer.tag).txt")
        return try store.file(at: answer) {
            let folder = (answer as NSString).deletingLastPathComponent
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name.hasPrefix(compact + ".") && name.contains("response-") && !name.hasSuffix("-\(signer.tag).txt") {
                try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
            }
            let fields = [
                ("respCode", "00"), ("respMsg", "成功"), ("merId", merId), ("settleDate", settleDate), ("txnType", "76"),
                ("fileType", "00"),
                ("fileName", "\(merId)_\(compact).zip"),
            ]
            try signer.writeAnswer(to: $0, fields: fields, fileContent: base64, badSignature: badSignature)
            return nil
        }
    }

    /// base64 of the zlib file, streamed. A corrupted one has one character changed past the
    /// zlib header (and is signed as sent: zlib, not the signature, is what catches it).
    static func writeBase64(of zlib: String, to path: String, corrupt: Bool) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let output = FileHandle(forWritingAtPath: path),
            let input = FileHandle(forReadingAtPath: zlib)
        else { throw CocoaError(.fileWriteUnknown) }
        defer {
            try? output.close()
            try? input.close()
        }
        var carry = Data()
        var first = true
        // 48 KiB of input is a whole number of base64 groups: chunks concatenate into one value.
        while let chunk = try input.read(upToCount: 48 << 10), !chunk.isEmpty {
            var block = carry + chunk
            carry = Data()
            if block.count % 3 != 0 {
                let keep = block.count - block.count % 3
                carry = block.subdata(in: keep..<block.count)
                block = block.subdata(in: 0..<keep)
            }
            var text = Array(block.base64EncodedString().utf8)
            if corrupt, first, text.count > 100 {
                text[100] = text[100] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            }
            first = false
            try output.write(contentsOf: text)
        }
        if !carry.isEmpty { try output.write(contentsOf: Data(carry.base64EncodedString().utf8)) }
    }

    /// MMDD in the latest year that does not put it after tomorrow.
    static func day(_ settleDate: String) -> LocalDay? {
        guard settleDate.count == 4, let month = Int(settleDate.prefix(2)), let dayOfMonth = Int(settleDate.suffix(2))
        else { return nil }
        let tomorrow = LocalDay.beijingToday(offset: 1)
        for year in [tomorrow.year, tomorrow.year - 1] {
            if let day = LocalDay(year: year, month: month, day: dayOfMonth), day <= tomorrow { return day }
        }
        return nil
    }
}
