import Foundation

/// `application/x-www-form-urlencoded` text: the Alipay gateway's and UnionPay's request bodies
/// (in the mock channel) and the dashboard's forms.
public enum FormURLEncoding {
    /// `k=v&k=v`, `+` as a space and `%XX` decoded (a key given twice keeps its last value; a
    /// malformed escape is kept as written).
    public static func decode(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.map(String.init) else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            fields[unescape(key)] = unescape(value)
        }
        return fields
    }

    /// The reverse, for links that carry a form's fields: unreserved bytes as they are, the rest
    /// percent-encoded.
    public static func encode(_ fields: [(String, String)]) -> String {
        fields.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
