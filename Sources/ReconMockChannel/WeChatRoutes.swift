import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconCore
import Synchronization

/// WeChat Pay API v3 (CHANNELS.md §2) at the real host's paths (api.mch.weixin.qq.com):
/// `GET /v3/bill/tradebill` applies for a bill and answers with its SHA-1 and a download URL valid
/// for 30 s; `GET /v3/billdownload/file` serves it gzipped; `GET /v3/certificates` lists the
/// platform certificate, sealed with the merchant's APIv3 key (`<data>/wechatpay/<mchid>/apiv3_key`).
/// Answers carry `Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048` and are signed with the
/// platform key; `Wechatpay-Serial` names it by the certificate's serial, or by its public key id
/// when the request's own `Wechatpay-Serial` names that id (as the SDKs do on the public key).
/// Requests must carry a `WECHATPAY2-SHA256-RSA2048` Authorization; when
/// `<data>/wechatpay/<mchid>/merchant_public_key.pem` exists, its signature is checked too.
struct WeChatRoutes: Sendable {
    let store: MockBillStore
    let faults: FaultPlan
    let stats: MockStats
    let files: FileResponder
    let platform: MockWeChatPlatform
    let tokens = DownloadTokens()

    func register(on router: Router<BasicRequestContext>) {
        router.get("v3/bill/tradebill") { request, context in try self.apply(request, context) }
        router.get("v3/billdownload/file") { request, _ in try self.download(request) }
        router.get("v3/certificates") { request, _ in try self.certificates(request) }
    }

    private func apply(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        stats.enter("wechatpay")
        defer { stats.leave("wechatpay") }
        let response = try applied(request)
        let date = request.uri.queryParameters.get("bill_date") ?? ""
        guard let fault = faults.take(channel: "wechatpay", date: date, kinds: [.badSignature]) else { return response }
        return Self.tampered(response, by: fault)
    }

    /// A `bad_signature` fault: one bit of the signature flipped (argument 0), or an answer whose
    /// `Wechatpay-Signature-Type` is left out (1) or names SM2 (2).
    static func tampered(_ response: Response, by fault: Fault) -> Response {
        var response = response
        switch fault.argument ?? 0 {
        case 1: response.headers[.wechatpaySignatureType] = nil
        case 2: response.headers[.wechatpaySignatureType] = "WECHATPAY2-SM2-WITH-SM3"
        default:
            let signature = response.headers[.wechatpaySignature] ?? ""
            response.headers[.wechatpaySignature] = (signature.hasPrefix("A") ? "B" : "A") + signature.dropFirst()
        }
        return response
    }

    private func applied(_ request: Request) throws -> Response {
        guard let merchant = authorizedMerchant(request) else {
            return error(401, "SIGN_ERROR", "签名错误", for: request)
        }
        guard let date = request.uri.queryParameters.get("bill_date"), let day = LocalDay(date) else {
            return error(400, "PARAM_ERROR", "bill_date 格式不正确", for: request)
        }
        if let fault = faults.take(
            channel: "wechatpay", date: date, kinds: [.fail503, .rateLimit429, .notReady, .authError])
        {
            switch fault.kind {
            case .rateLimit429:
                var response = error(429, "FREQUENCY_LIMITED", "频率超限", for: request)
                response.headers[HTTPField.Name.retryAfter] = "\(fault.argument ?? 1)"
                return response
            case .notReady: return error(400, "STATEMENT_CREATING", "账单生成中", for: request)
            case .authError: return error(401, "SIGN_ERROR", "签名错误", for: request)
            default: return error(500, "SYSTEM_ERROR", "系统繁忙，请稍后重试", for: request)
            }
        }
        if faults.contains(channel: "wechatpay", date: date, kind: .noBusiness) {
            return error(400, "NO_STATEMENT_EXIST", "账单文件不存在", for: request)
        }
        let csv = try bill(merchant: merchant, day: day)
        var hash = try MockDigest.sha1(path: csv)
        if faults.take(channel: "wechatpay", date: date, kinds: [.wrongHash]) != nil { hash = String(hash.reversed()) }
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        tokens.issue(token, merchant: merchant, day: day)
        let host = request.head.authority ?? "127.0.0.1"
        let body =
            "{\"hash_type\":\"SHA1\",\"hash_value\":\"\(hash)\",\"download_url\":\"http://\(host)/v3/billdownload/file?token=\(token)\"}"
        return signed(200, body, for: request)
    }

    private func download(_ request: Request) throws -> Response {
        stats.enter("wechatpay")
        guard authorizedMerchant(request) != nil else {
            stats.leave("wechatpay")
            return error(401, "SIGN_ERROR", "签名错误", for: request)
        }
        let token = request.uri.queryParameters.get("token") ?? ""
        guard let grant = tokens.grant(token, validFor: .seconds(30)),
            faults.take(channel: "wechatpay", date: grant.day.description, kinds: [.expiredURL]) == nil
        else {
            stats.leave("wechatpay")
            return error(400, "INVALID_REQUEST", "下载链接已过期", for: request)
        }
        let gz: String
        do {
            let csv = try bill(merchant: grant.merchant, day: grant.day)
            gz = try store.file(at: csv + ".gz") {
                try MockPacking.gzip(csv, to: $0)
                return nil
            }
        } catch {
            stats.leave("wechatpay")
            throw error
        }
        let fault = faults.take(
            channel: "wechatpay", date: grant.day.description,
            kinds: [.cutBody, .truncatedBody, .slow, .corruptArchive])
        return files.respond(
            file: gz, channel: "wechatpay", request: request, fault: fault, contentType: "application/octet-stream")
    }

    private func bill(merchant: String, day: LocalDay) throws -> String {
        try store.file(at: store.path(channel: "wechatpay", merchant: merchant, day: day, ext: "csv")) { temporary in
            try MockBills.write(
                .wechat(merchantID: merchant), to: temporary, merchant: merchant, day: day, lines: store.linesPerDay)
        }
    }

    /// The merchant of a well-formed (and, given its public key, correctly signed) Authorization.
    private func authorizedMerchant(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("WECHATPAY2-SHA256-RSA2048 ") else {
            return nil
        }
        var fields: [String: String] = [:]
        for part in header.dropFirst("WECHATPAY2-SHA256-RSA2048 ".count).split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            fields[pair[0].trimmingCharacters(in: .whitespaces)] = pair[1].trimmingCharacters(
                in: CharacterSet(charactersIn: "\""))
        }
        guard let merchant = fields["mchid"], !merchant.isEmpty, merchant.allSatisfy(\.isNumber),
            let nonce = fields["nonce_str"], let timestamp = fields["timestamp"], let signature = fields["signature"],
            fields["serial_no"] != nil
        else { return nil }
        let keyPath = "\(store.folder)/wechatpay/\(merchant)/merchant_public_key.pem"
        if let pem = try? String(contentsOfFile: keyPath, encoding: .utf8) {
            let message = "GET\n\(request.uri.description)\n\(timestamp)\n\(nonce)\n\n"
            guard MockSigningKey.verify(signature: signature, of: message, publicKeyPEM: pem) else { return nil }
        }
        return merchant
    }

    /// The platform certificate, sealed with the merchant's APIv3 key (the SDKs verify answers
    /// with the certificate whose serial the answer names).
    private func certificates(_ request: Request) throws -> Response {
        stats.enter("wechatpay")
        defer { stats.leave("wechatpay") }
        guard let merchant = authorizedMerchant(request) else {
            return error(401, "SIGN_ERROR", "签名错误", for: request)
        }
        let keyPath = "\(store.folder)/wechatpay/\(merchant)/apiv3_key"
        guard let text = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            return error(403, "NO_AUTH", "商户未设置APIv3密钥 (the mock has no \(keyPath))", for: request)
        }
        let apiV3Key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard apiV3Key.utf8.count == 32 else {
            return error(403, "NO_AUTH", "APIv3密钥长度应为32字节 (\(keyPath))", for: request)
        }
        let sealed = try platform.encryptedCertificate(apiV3Key: apiV3Key)
        let effective: String = Self.rfc3339(platform.notValidBefore)
        let expires: String = Self.rfc3339(platform.notValidAfter)
        let encrypted: String =
            "{\"algorithm\":\"AEAD_AES_256_GCM\",\"nonce\":\"\(sealed.nonce)\","
            + "\"associated_data\":\"certificate\",\"ciphertext\":\"\(sealed.ciphertext)\"}"
        let entry: String =
            "{\"serial_no\":\"\(platform.serial)\",\"effective_time\":\"\(effective)\","
            + "\"expire_time\":\"\(expires)\",\"encrypt_certificate\":\(encrypted)}"
        let body = "{\"data\":[\(entry)]}"
        return signed(200, body, for: request)
    }

    /// `2026-11-24T10:00:00+08:00`, as WeChat Pay writes times.
    static func rfc3339(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970) + LocalTime.beijingOffsetSeconds
        return LocalTime.text(seconds).replacingOccurrences(of: " ", with: "T") + "+08:00"
    }

    private func error(_ status: Int, _ code: String, _ message: String, for request: Request) -> Response {
        signed(status, "{\"code\":\"\(code)\",\"message\":\"\(message)\"}", for: request)
    }

    /// A JSON answer with the Wechatpay-* headers, signed over `timestamp\nnonce\nbody\n`.
    private func signed(_ status: Int, _ body: String, for request: Request) -> Response {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[.wechatpayTimestamp] = timestamp
        headers[.wechatpayNonce] = nonce
        headers[.wechatpaySerial] =
            request.headers[.wechatpaySerial] == platform.publicKeyID ? platform.publicKeyID : platform.serial
        headers[.wechatpaySignatureType] = "WECHATPAY2-SHA256-RSA2048"
        headers[.wechatpaySignature] = (try? platform.key.sign("\(timestamp)\n\(nonce)\n\(body)\n")) ?? ""
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Download URLs handed out by an API call: token → the bill, valid for a while (30 s at the
/// channels that do this).
final class DownloadTokens: Sendable {
    private let grants = Mutex<[String: (merchant: String, day: LocalDay, issued: ContinuousClock.Instant)]>([:])

    func issue(_ token: String, merchant: String, day: LocalDay) {
        grants.withLock { $0[token] = (merchant, day, .now) }
    }

    func grant(_ token: String, validFor lifetime: Duration) -> (merchant: String, day: LocalDay)? {
        guard let grant = grants.withLock({ $0[token] }), ContinuousClock.now - grant.issued < lifetime else {
            return nil
        }
        return (grant.merchant, grant.day)
    }
}
