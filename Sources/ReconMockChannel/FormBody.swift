import Foundation
import Hummingbird

/// `application/x-www-form-urlencoded` text, as the Alipay gateway and UnionPay take it in a body
/// and the Alipay gateway in a query string too.
enum FormBody {
    static func parse(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return decode(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    /// `k=v&k=v`, `+` as a space and `%XX` decoded (a key given twice keeps its last value).
    static func decode(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.map(String.init) else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            fields[unescape(key)] = unescape(value)
        }
        return fields
    }

    private static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
