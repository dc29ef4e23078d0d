import Foundation
import ReconHTTP
import Testing

@testable import ReconChannels

/// UnionPay's file-transfer answers, classified as CHANNELS.md §3.1 and §5 say: every row of the
/// tables, through the pure classifiers the adapter calls between its network calls.
@Suite struct UnionPayAnswerTests {
    static let what = "UnionPay settlement file for 2026-11-23"

    static let transferRows: [AnswerRow] = [
        AnswerRow("200: the answer is in the file", 200, .ready),
        AnswerRow(
            "503 with Retry-After", 503, "busy", headers: ["Retry-After": "12"], .transient, words: ["HTTP 503"],
            retryAfter: .seconds(12)),
        AnswerRow("429", 429, "", .transient, words: ["rate limited"]),
        AnswerRow("401", 401, "denied", .permanent, words: ["HTTP 401"]),
        AnswerRow("404", 404, "no such path", .permanent, words: ["HTTP 404", "no such path"]),
    ]

    @Test(arguments: transferRows)
    func transferAnswers(_ row: AnswerRow) {
        row.check(UnionPayAdapter.classifyTransfer(row.answer, what: Self.what))
    }

    /// (respCode, respMsg, file present, answered settleDate, attempt, class, words)
    static let fieldRows: [(String?, String, Bool, String?, Int, AnswerKind, [String])] = [
        ("00", "成功", true, "1123", 1, .ready, []),
        ("00", "成功", true, nil, 1, .ready, []),
        ("00", "成功", false, "1123", 1, .transient, ["respCode 00 without fileContent"]),
        ("00", "成功", true, "1122", 1, .permanent, ["asked for settleDate 1123", "the answer is for 1122"]),
        ("98", "文件不存在", false, "1123", 1, .noBill, ["respCode 98", "文件不存在"]),
        ("03", "交易通讯超时", false, nil, 1, .transient, ["respCode 03", "交易通讯超时"]),
        ("04", "交易状态未明", false, nil, 1, .transient, ["respCode 04"]),
        ("05", "交易已受理", false, nil, 1, .transient, ["respCode 05"]),
        ("06", "系统繁忙", false, nil, 1, .transient, ["respCode 06", "系统繁忙"]),
        ("10", "报文格式错误", false, nil, 1, .permanent, ["respCode 10", "报文格式错误"]),
        ("11", "验证签名失败", false, nil, 1, .permanent, ["respCode 11", "验证签名失败"]),
        ("13", "缺少必填字段", false, nil, 1, .permanent, ["respCode 13"]),
        ("32", "无此权限", false, nil, 1, .permanent, ["respCode 32", "无此权限"]),
        ("99", "系统错误", false, nil, 1, .transient, ["respCode 99", "系统错误"]),
        ("99", "系统错误", false, nil, 2, .transient, ["respCode 99"]),
        ("99", "系统错误", false, nil, 3, .permanent, ["respCode 99", "3 attempts"]),
        ("01", "交易失败", false, nil, 1, .transient, ["respCode 01"]),
        (nil, "", false, nil, 1, .transient, ["respCode -"]),
    ]

    @Test(arguments: fieldRows)
    func respCodes(
        code: String?, message: String, hadFile: Bool, settleDate: String?, attempt: Int, kind: AnswerKind,
        words: [String]
    ) {
        var fields = ["respMsg": message, "txnType": "76"]
        fields["respCode"] = code
        fields["settleDate"] = settleDate
        let verdict = UnionPayAdapter.classify(
            fields: fields, hadFile: hadFile, settleDate: "1123", attempt: attempt, what: Self.what)
        AnswerRow("respCode \(code ?? "-") attempt \(attempt)", 200, kind, words: words).check(verdict)
    }

    /// (respCode, read whole, answers verified, refused as transient)
    static let undecodableRows: [(String?, Bool, Bool, Bool)] = [
        ("00", true, false, true),
        ("00", true, true, true),
        (nil, false, false, true),
        ("98", true, true, false),
        ("98", false, false, false),
        ("98", false, true, true),
        ("11", true, true, false),
    ]

    @Test(arguments: undecodableRows)
    func anAnswerWhoseFileDoesNotDecode(code: String?, whole: Bool, verifying: Bool, refused: Bool) {
        let refusal = UnionPayAdapter.classifyUndecodable(
            respCode: code, reason: "fileContent is not valid base64", wholeAnswer: whole, verifying: verifying,
            what: Self.what)
        #expect((refusal != nil) == refused)
        if let refusal {
            guard case .transient(let message, _) = refusal else {
                Issue.record("not transient: \(refusal)")
                return
            }
            #expect(message.contains("fileContent is not valid base64"))
        }
    }
}
