import Foundation
import ReconHTTP
import Testing

@testable import ReconChannels

/// WeChat Pay's answers, classified as CHANNELS.md §2.1, §2.2 and §5 say: every row of the
/// tables, through the pure classifiers the adapter calls between its network calls.
@Suite struct WeChatPayAnswerTests {
    static let what = "WeChat Pay trade bill for 2026-11-23"
    static let applied =
        #"{"hash_type":"SHA1","hash_value":"72C716447D9F6838BA77360C950AD104C5D8A710","download_url":"https://api.mch.weixin.qq.com/v3/billdownload/file?token=SYNTHETIC"}"#

    static func error(_ code: String, _ message: String) -> String {
        "{\"code\":\"\(code)\",\"message\":\"\(message)\"}"
    }

    static let applyRows: [AnswerRow] = [
        AnswerRow("200 with URL and hash", 200, applied, .ready),
        AnswerRow(
            "400 STATEMENT_CREATING", 400, error("STATEMENT_CREATING", "账单生成中，请稍后再试"), .notReady,
            words: ["STATEMENT_CREATING", "账单生成中"]),
        AnswerRow(
            "400 NO_STATEMENT_EXIST", 400, error("NO_STATEMENT_EXIST", "账单不存在"), .emptyDay,
            words: ["NO_STATEMENT_EXIST", "账单不存在"]),
        AnswerRow(
            "400 PARAM_ERROR", 400, error("PARAM_ERROR", "bill_date格式不正确"), .permanent,
            words: ["HTTP 400", "PARAM_ERROR", "bill_date格式不正确"]),
        AnswerRow(
            "400 INVALID_REQUEST", 400, error("INVALID_REQUEST", "账单日期无效"), .permanent,
            words: ["INVALID_REQUEST", "账单日期无效"]),
        AnswerRow(
            "401 SIGN_ERROR", 401, error("SIGN_ERROR", "签名错误"), .permanent, words: ["HTTP 401", "SIGN_ERROR", "签名错误"]),
        AnswerRow(
            "403 NO_AUTH", 403, error("NO_AUTH", "商户无权限"), .permanent, words: ["HTTP 403", "NO_AUTH", "商户无权限"]),
        AnswerRow(
            "429 FREQUENCY_LIMITED with Retry-After", 429, error("FREQUENCY_LIMITED", "频率超限"),
            headers: ["Retry-After": "2"], .transient, words: ["HTTP 429", "FREQUENCY_LIMITED"],
            retryAfter: .seconds(2)),
        AnswerRow(
            "500 SYSTEM_ERROR", 500, error("SYSTEM_ERROR", "系统错误"), .transient,
            words: ["HTTP 500", "SYSTEM_ERROR", "系统错误"]),
        AnswerRow(
            "503 from a proxy, not JSON", 503, "<html>upstream</html>", headers: ["Retry-After": "9"], .transient,
            words: ["HTTP 503", "upstream"], retryAfter: .seconds(9)),
        AnswerRow(
            "200 without download_url", 200, #"{"hash_type":"SHA1","hash_value":"72c7"}"#, .transient,
            words: ["lacks download_url"]),
        AnswerRow(
            "200 with an MD5 hash", 200,
            #"{"hash_type":"MD5","hash_value":"0123456789abcdef0123456789abcdef","download_url":"https://x/y"}"#,
            .permanent, words: ["unexpected hash MD5"]),
        AnswerRow("404 not JSON", 404, "not found", .permanent, words: ["HTTP 404", "not found"]),
    ]

    @Test(arguments: applyRows)
    func applyAnswers(_ row: AnswerRow) {
        let verdict = WeChatPayAdapter.classifyApply(row.answer, verifier: nil, what: Self.what)
        row.check(verdict)
        if case .ready(let application) = verdict {
            #expect(application.downloadURL == "https://api.mch.weixin.qq.com/v3/billdownload/file?token=SYNTHETIC")
            #expect(application.sha1 == "72c716447d9f6838ba77360c950ad104c5d8a710")
        }
    }

    /// Signed with `SDKTestKey` over `timestamp\nnonce\nbody\n`, naming `type` as the signature type.
    static func signed(
        _ status: Int, _ body: String, timestamp: String = "1795485601", type: String? = "WECHATPAY2-SHA256-RSA2048"
    ) throws -> ChannelAnswer {
        let signer = try RSASigner(pem: SDKTestKey.privatePEM, describedAs: "test key")
        let signature = try signer.sign("\(timestamp)\nc5ac7061fccab6bf3e254dcf98995b8c\n\(body)\n")
        var headers: HTTPHeaders = [
            "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": "c5ac7061fccab6bf3e254dcf98995b8c",
            "Wechatpay-Signature": signature, "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        ]
        if let type { headers.append(name: "Wechatpay-Signature-Type", value: type) }
        return ChannelAnswer(status: status, headers: headers, body: Data(body.utf8))
    }

    /// With the platform key configured, answers must be signed, except 429 and 5xx.
    @Test func answersAreVerifiedWithThePlatformKey() throws {
        let verifier = try RSAVerifier(pem: SDKTestKey.publicPEM, describedAs: "test key")
        func verdict(_ answer: ChannelAnswer) -> AnswerClass<WeChatPayAdapter.BillApplication> {
            WeChatPayAdapter.classifyApply(answer, verifier: verifier, what: Self.what)
        }
        AnswerRow("signed 200", 200, .ready).check(verdict(try Self.signed(200, Self.applied)))
        AnswerRow("signed STATEMENT_CREATING", 400, .notReady)
            .check(verdict(try Self.signed(400, Self.error("STATEMENT_CREATING", "账单生成中"))))
        var changed = try Self.signed(200, Self.applied)
        changed.body = Data(Self.applied.replacingOccurrences(of: "SYNTHETIC", with: "OTHER").utf8)
        AnswerRow("a changed body", 200, .permanent, words: ["does not verify with the platform key"])
            .check(verdict(changed))
        AnswerRow("no signature type", 200, .permanent, words: ["Wechatpay-Signature-Type is missing"])
            .check(verdict(try Self.signed(200, Self.applied, type: nil)))
        AnswerRow("an SM2 signature", 200, .permanent, words: ["Wechatpay-Signature-Type is 'SM2-WITH-SM3'"])
            .check(verdict(try Self.signed(200, Self.applied, type: "SM2-WITH-SM3")))
        AnswerRow("unsigned 200", 200, .permanent, words: ["not signed"])
            .check(
                verdict(
                    ChannelAnswer(
                        status: 200, headers: ["Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"],
                        body: Data(Self.applied.utf8))))
        AnswerRow("unsigned STATEMENT_CREATING", 400, .permanent, words: ["Wechatpay-Signature-Type is missing"])
            .check(verdict(ChannelAnswer(status: 400, body: Data(Self.error("STATEMENT_CREATING", "x").utf8))))
        AnswerRow("unsigned 500 from a proxy", 500, .transient, words: ["HTTP 500"])
            .check(verdict(ChannelAnswer(status: 500, body: Data("oops".utf8))))
        AnswerRow("unsigned 429", 429, .transient, retryAfter: .seconds(3))
            .check(verdict(ChannelAnswer(status: 429, headers: ["Retry-After": "3"])))
    }

    static let downloadRows: [(AnswerRow, Bool)] = [
        (AnswerRow("saved", 200, .ready), true),
        (
            AnswerRow(
                "400 INVALID_REQUEST: the URL expired", 400, error("INVALID_REQUEST", "token已过期"), .transient,
                words: ["expired or was used", "applying again"]), false
        ),
        (
            AnswerRow(
                "403 NO_AUTH: another merchant applied", 403, error("NO_AUTH", "无权限"), .permanent,
                words: ["HTTP 403", "NO_AUTH"]), false
        ),
        (AnswerRow("400 PARAM_ERROR", 400, error("PARAM_ERROR", "x"), .permanent, words: ["PARAM_ERROR"]), false),
        (
            AnswerRow(
                "500 with Retry-After", 500, error("SYSTEM_ERROR", "系统错误"), headers: ["Retry-After": "4"], .transient,
                words: ["SYSTEM_ERROR"], retryAfter: .seconds(4)), false
        ),
    ]

    @Test(arguments: downloadRows)
    func downloadAnswers(_ row: AnswerRow, saved: Bool) {
        row.check(WeChatPayAdapter.classifyDownload(row.answer, saved: saved, what: Self.what))
    }
}
