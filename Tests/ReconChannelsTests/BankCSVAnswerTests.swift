import Foundation
import ReconHTTP
import Testing

@testable import ReconChannels

/// A `bank_csv` channel's answers, classified as CHANNELS.md §4 and §5 say: every row of the
/// tables, through the pure classifiers the adapter calls between its network calls.
@Suite struct BankCSVAnswerTests {
    static let what = "bank file for 2026-11-23"
    static let url = "https://bank.example/bills/m-42/20261123.csv"

    static let downloadRows: [(AnswerRow, Int64?)] = [
        (AnswerRow("200 with the file", 200, .ready), 1234),
        (AnswerRow("200 with an empty body", 200, .notReady, words: ["the body is empty", "not published yet"]), 0),
        (AnswerRow("404", 404, "no file", .notReady, words: ["not published yet (HTTP 404 at \(url))"]), nil),
        (
            AnswerRow(
                "503 with Retry-After", 503, "maintenance", headers: ["Retry-After": "120"], .transient,
                words: ["HTTP 503", "maintenance"], retryAfter: .seconds(120)), nil
        ),
        (
            AnswerRow(
                "429 with an HTTP-date Retry-After", 429, headers: ["Retry-After": "Wed, 25 Nov 2026 10:00:00 GMT"],
                .transient, retryAfter: .seconds(60)),
            nil
        ),
        (AnswerRow("401", 401, "bad key", .permanent, words: ["HTTP 401", "refused our credentials"]), nil),
        (AnswerRow("403", 403, "", .permanent, words: ["HTTP 403"]), nil),
        (AnswerRow("410", 410, "gone", .permanent, words: ["HTTP 410 at \(url)", "gone"]), nil),
    ]

    @Test(arguments: downloadRows)
    func downloadAnswers(_ row: AnswerRow, savedBytes: Int64?) {
        row.check(BankCSVAdapter.classifyDownload(row.answer, savedBytes: savedBytes, url: Self.url, what: Self.what))
    }

    static let sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

    static let sidecarRows: [AnswerRow] = [
        AnswerRow("the same hash", 200, "\(sha256)  20261123.csv\n", .ready),
        AnswerRow("the same hash in capitals", 200, sha256.uppercased(), .ready),
        AnswerRow(
            "another hash", 200, String(repeating: "0", count: 64), .transient,
            words: ["its SHA-256 is \(sha256)", "the sidecar announces 0000", "not staged"]),
        AnswerRow("too short", 200, "9f86d0", .transient, words: ["does not start with 64 hex digits"]),
        AnswerRow("404", 404, .transient, words: ["sha256 sidecar: HTTP 404"]),
        AnswerRow(
            "503 with Retry-After", 503, headers: ["Retry-After": "1"], .transient, retryAfter: .seconds(1)),
        AnswerRow("403", 403, .permanent, words: ["HTTP 403"]),
    ]

    @Test(arguments: sidecarRows)
    func sidecarAnswers(_ row: AnswerRow) {
        row.check(
            BankCSVAdapter.classifySidecar(row.answer, url: Self.url + ".sha256", sha256: Self.sha256, what: Self.what))
    }
}
