import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconCore
import Synchronization

/// WeChat Pay API v3 (CHANNELS.md §2): `GET /wechatpay/v3/bill/tradebill` applies for a bill and
/// answers with its SHA-1 and a download URL valid for 30 s; `GET /wechatpay/v3/billdownload/file`
/// serves it gzipped. Answers are signed with the mock's platform key. Requests must carry a
/// `WECHATPAY2-SHA256-RSA2048` Authorization; when `<data>/wechatpay/<mchid>/merchant_public_key.pem`
/// exists, its signature is checked too.
struct WeChatRoutes: Sendable {
    let store: MockBillStore
    let faults: FaultPlan
    let stats: MockStats
    let files: FileResponder
    let platformKey: MockSigningKey
    let tokens = DownloadTokens()

    func register(on router: Router<BasicRequestContext>) {
        router.get("wechatpay/v3/bill/tradebill") { request, context in try self.apply(request, context) }
        router.get("wechatpay/v3/billdownload/file") { request, _ in try self.download(request) }
    }

    private func apply(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        stats.enter("wechatpay")
        defer { stats.leave("wechatpay") }
        guard let merchant = authorizedMerchant(request) else {
            return error(401, "SIGN_ERROR", "签名错误")
        }
        guard let date = request.uri.queryParameters.get("bill_date"), let day = LocalDay(date) else {
            return error(400, "PARAM_ERROR", "bill_date 格式不正确")
        }
        if let fault = faults.take(
            channel: "wechatpay", date: date, kinds: [.fail503, .rateLimit429, .notReady, .authError])
        {
            switch fault.kind {
            case .rateLimit429:
                var response = error(429, "FREQUENCY_LIMITED", "频率超限")
                response.headers[HTTPField.Name.retryAfter] = "\(fault.argument ?? 1)"
                return response
            case .notReady: return error(400, "STATEMENT_CREATING", "账单生成中")
            case .authError: return error(401, "SIGN_ERROR", "签名错误")
            default: return error(500, "SYSTEM_ERROR", "系统繁忙，请稍后重试")
            }
        }
        if faults.contains(channel: "wechatpay", date: date, kind: .noBusiness) {
            return error(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        }
        let csv = try bill(merchant: merchant, day: day)
        var hash = try MockDigest.sha1(path: csv)
        if faults.take(channel: "wechatpay", date: date, kinds: [.wrongHash]) != nil { hash = String(hash.reversed()) }
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        tokens.issue(token, merchant: merchant, day: day)
        let host = request.head.authority ?? "127.0.0.1"
        let body =
            "{\"hash_type\":\"SHA1\",\"hash_value\":\"\(hash)\",\"download_url\":\"http://\(host)/wechatpay/v3/billdownload/file?token=\(token)\"}"
        return signed(200, body)
    }

    private func download(_ request: Request) throws -> Response {
        stats.enter("wechatpay")
        guard authorizedMerchant(request) != nil else {
            stats.leave("wechatpay")
            return error(401, "SIGN_ERROR", "签名错误")
        }
        let token = request.uri.queryParameters.get("token") ?? ""
        guard let grant = tokens.grant(token, validFor: .seconds(30)) else {
            stats.leave("wechatpay")
            return error(400, "INVALID_REQUEST", "下载链接已过期")
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

    private func error(_ status: Int, _ code: String, _ message: String) -> Response {
        signed(status, "{\"code\":\"\(code)\",\"message\":\"\(message)\"}")
    }

    /// A JSON answer with the Wechatpay-* signature headers over `timestamp\nnonce\nbody\n`.
    private func signed(_ status: Int, _ body: String) -> Response {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[.wechatpayTimestamp] = timestamp
        headers[.wechatpayNonce] = nonce
        headers[.wechatpaySerial] = "MOCKPLATFORM0001"
        headers[.wechatpaySignature] =
            (try? platformKey.sign("\(timestamp)\n\(nonce)\n\(body)\n")) ?? ""
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
