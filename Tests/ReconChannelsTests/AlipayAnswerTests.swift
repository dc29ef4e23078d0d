import Foundation
import ReconHTTP
import Testing

@testable import ReconChannels

/// Alipay's answers, classified as CHANNELS.md §1.1 and §5 say: every row of the tables, through
/// the pure classifiers the adapter calls between its network calls.
@Suite struct AlipayAnswerTests {
    static let what = "Alipay trade bill for 2026-11-23"
    static let url =
        "http://dwbillcenter.alipay.com/downloadBillFile.resource?bizType=trade&userId=20880000000000000156&fileType=csv.zip"

    /// A gateway answer: the method's node (or `error_response`) and a sign.
    static func gateway(
        _ code: String, _ msg: String, sub: String? = nil, subMsg: String? = nil, url: String? = nil,
        key: String = "alipay_data_dataservice_bill_downloadurl_query_response"
    ) -> String {
        var fields = ["\"code\":\"\(code)\"", "\"msg\":\"\(msg)\""]
        if let sub { fields.append("\"sub_code\":\"\(sub)\"") }
        if let subMsg { fields.append("\"sub_msg\":\"\(subMsg)\"") }
        if let url { fields.append("\"bill_download_url\":\"\(url)\"") }
        return "{\"\(key)\":{\(fields.joined(separator: ","))},\"sign\":\"c2lnbg==\"}"
    }

    static let gatewayRows: [AnswerRow] = [
        AnswerRow("10000 with a URL", 200, gateway("10000", "Success", url: url), .ready),
        AnswerRow(
            "isp.bill_not_exist", 200, gateway("40004", "Business Failed", sub: "isp.bill_not_exist", subMsg: "账单不存在"),
            .noBill, words: ["code 40004", "Business Failed", "isp.bill_not_exist", "账单不存在"]),
        AnswerRow(
            "BILL_NOT_EXIST (the spec's spelling)", 200,
            gateway("40004", "Business Failed", sub: "BILL_NOT_EXIST", subMsg: "账单不存在"), .noBill,
            words: ["BILL_NOT_EXIST"]),
        AnswerRow(
            "invalid_arguments (today, or a bad date)", 200,
            gateway("40004", "Business Failed", sub: "isv.invalid_arguments", subMsg: "日期格式错误"), .permanent,
            words: ["40004", "isv.invalid_arguments", "日期格式错误"]),
        AnswerRow(
            "BILL_DATE_BEFORE_REGISTRATION", 200,
            gateway("40004", "Business Failed", sub: "BILL_DATE_BEFORE_REGISTRATION", subMsg: "账单日期早于签约日期"), .permanent,
            words: ["BILL_DATE_BEFORE_REGISTRATION", "账单日期早于签约日期"]),
        AnswerRow(
            "20000 gateway hiccup", 200,
            gateway("20000", "Service Currently Unavailable", sub: "isp.unknow-error", subMsg: "系统繁忙"), .transient,
            words: ["20000", "Service Currently Unavailable", "isp.unknow-error"]),
        AnswerRow(
            "aop.ACL_* limit", 200, gateway("40004", "Business Failed", sub: "aop.ACL_LIMIT", subMsg: "限流"), .transient,
            words: ["aop.ACL_LIMIT"]),
        AnswerRow(
            "call-limited", 200, gateway("40004", "Business Failed", sub: "isp.call-limited", subMsg: "调用频率超限"),
            .transient, words: ["isp.call-limited"]),
        AnswerRow(
            "40001 missing argument", 200,
            gateway("40001", "Missing Required Arguments", sub: "isv.missing-app-id", subMsg: "缺少AppID参数"), .permanent,
            words: ["40001", "isv.missing-app-id", "缺少AppID参数"]),
        AnswerRow(
            "40002 invalid signature", 200,
            gateway("40002", "Invalid Arguments", sub: "isv.invalid-signature", subMsg: "验签出错"), .permanent,
            words: ["40002", "isv.invalid-signature", "验签出错"]),
        AnswerRow(
            "40002 invalid app id under error_response", 200,
            gateway(
                "40002", "Invalid Arguments", sub: "isv.invalid-app-id", subMsg: "无效的AppID参数", key: "error_response"),
            .permanent, words: ["isv.invalid-app-id", "无效的AppID参数"]),
        AnswerRow(
            "40006 no permission", 200,
            gateway("40006", "Insufficient Permissions", sub: "isv.insufficient-isv-permissions", subMsg: "ISV权限不足"),
            .permanent, words: ["40006", "ISV权限不足"]),
        AnswerRow(
            "20001 bad token", 200,
            gateway("20001", "Insufficient Token Permissions", sub: "aop.invalid-auth-token", subMsg: "无效的访问令牌"),
            .permanent, words: ["20001", "aop.invalid-auth-token"]),
        AnswerRow("10000 without a URL", 200, gateway("10000", "Success"), .transient, words: ["bill_download_url"]),
        AnswerRow(
            "10000 with a URL that is not http", 200, gateway("10000", "Success", url: "ftp://x/y"), .transient,
            words: ["bill_download_url"]),
        AnswerRow(
            "no response node (an HTML page)", 200, "<html>busy</html>", .transient, words: ["no response node"]),
        AnswerRow(
            "HTTP 503 with Retry-After", 503, "busy", headers: ["Retry-After": "30"], .transient,
            words: ["gateway: HTTP 503"], retryAfter: .seconds(30)),
        AnswerRow(
            "HTTP 429, Retry-After capped at an hour", 429, "", headers: ["Retry-After": "86400"], .transient,
            words: ["rate limited"], retryAfter: .seconds(3600)),
        AnswerRow(
            "HTTP 502 without Retry-After", 502, "bad gateway", .transient, words: ["HTTP 502", "bad gateway"]),
        AnswerRow(
            "HTTP 429 with a signed error node: its words, never the sign", 429,
            gateway("40004", "Business Failed", sub: "aop.ACL_CALL_LIMITED", subMsg: "调用频次超限"), .transient,
            words: ["rate limited", "code 40004 Business Failed aop.ACL_CALL_LIMITED 调用频次超限"], absent: ["c2lnbg", "{"]),
        AnswerRow("HTTP 403", 403, "forbidden", .permanent, words: ["HTTP 403", "refused our credentials"]),
        AnswerRow("HTTP 404", 404, "not found", .permanent, words: ["gateway HTTP 404", "not found"]),
    ]

    @Test(arguments: gatewayRows)
    func gatewayAnswers(_ row: AnswerRow) {
        let verdict = AlipayAdapter.classifyGateway(row.answer, verifier: nil, what: Self.what)
        row.check(verdict)
        if case .ready(let url) = verdict { #expect(url == Self.url) }
    }

    /// Bodies quoted in messages never carry a signature, JSON or form-encoded.
    @Test func snippetsHideSignatures() {
        let json = ChannelAnswer(status: 500, body: Data(#"{"code":"X","sign":"QUJD"}"#.utf8))
        #expect(json.bodySnippet == #"{"code":"X","sign":"…"}"#)
        let form = ChannelAnswer(
            status: 500, body: Data("respCode=99&signature=QUJD+/=&signPubKeyCert=-----BEGIN&x=1".utf8))
        #expect(form.bodySnippet == "respCode=99&signature=…&signPubKeyCert=…&x=1")
    }

    /// With Alipay's key configured the node must verify; a hiccup is transient before any check.
    @Test func gatewayAnswersAreVerifiedWithAlipaysKey() throws {
        let verifier = try RSAVerifier(pem: SDKTestKey.publicPEM, describedAs: "test key")
        let signed = ChannelAnswer(status: 200, body: Data(AlipayVectors.signedAnswer.utf8))
        guard case .ready(let url) = AlipayAdapter.classifyGateway(signed, verifier: verifier, what: Self.what) else {
            Issue.record("the SDK-signed answer does not verify")
            return
        }
        #expect(url.hasPrefix("http://dwbillcenter.alipay.com/downloadBillFile.resource?bizType=trade"))

        let tampered = AlipayVectors.signedAnswer.replacingOccurrences(
            of: "bizDates=20261123", with: "bizDates=20261124")
        AnswerRow("a changed node", 200, tampered, .permanent, words: ["does not verify"])
            .check(
                AlipayAdapter.classifyGateway(
                    ChannelAnswer(status: 200, body: Data(tampered.utf8)), verifier: verifier, what: Self.what))
        let unsigned = Self.gateway("40004", "Business Failed", sub: "isp.bill_not_exist")
        AnswerRow("a fake sign", 200, unsigned, .permanent, words: ["does not verify"])
            .check(
                AlipayAdapter.classifyGateway(
                    ChannelAnswer(status: 200, body: Data(unsigned.utf8)), verifier: verifier, what: Self.what))
        let hiccup = Self.gateway("20000", "Service Currently Unavailable", sub: "isp.unknow-error")
        AnswerRow("an unsigned hiccup", 200, hiccup, .transient, words: ["20000"])
            .check(
                AlipayAdapter.classifyGateway(
                    ChannelAnswer(status: 200, body: Data(hiccup.utf8)), verifier: verifier, what: Self.what))
    }

    static let downloadRows: [(AnswerRow, [UInt8]?)] = [
        (AnswerRow("a ZIP", 200, .ready), Array("PK\u{3}\u{4}".utf8)),
        (AnswerRow("an empty ZIP (end record first)", 200, .ready), Array("PK\u{5}\u{6}".utf8)),
        (
            AnswerRow("an error page with 200", 200, .transient, words: ["not a ZIP archive", "new URL"]),
            Array("<htm".utf8)
        ),
        (AnswerRow("an empty file", 200, .transient, words: ["not a ZIP archive"]), []),
        (
            AnswerRow(
                "the expired URL's page (410 on the mock)", 410, "下载超时,请重新下载", .transient,
                words: ["download HTTP 410", "expired URL", "下载超时"]), nil
        ),
        (AnswerRow("403 (an expired URL elsewhere)", 403, "denied", .transient, words: ["HTTP 403"]), nil),
        (
            AnswerRow(
                "503 with Retry-After", 503, "", headers: ["Retry-After": "5"], .transient, retryAfter: .seconds(5)),
            nil
        ),
    ]

    @Test(arguments: downloadRows)
    func downloadAnswers(_ row: AnswerRow, fileHead: [UInt8]?) {
        row.check(AlipayAdapter.classifyDownload(row.answer, fileHead: fileHead, what: Self.what))
    }
}
