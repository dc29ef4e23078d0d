/// Alipay's RSA2 (CHANNELS.md §1.1): every non-empty parameter except `sign`, sorted by key in
/// byte order, joined as `k=v&k=v` with the raw (not URL-encoded) values.
public enum AlipaySignature {
    public static func content(_ parameters: [String: String]) -> String {
        parameters.filter { $0.key != "sign" && !$0.value.isEmpty }
            .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            .map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// The exact text of the JSON value under `key` in `body` (the response node Alipay signs),
    /// found by scanning brackets outside strings, so no re-encoding changes a byte.
    public static func rawValue(of key: String, in body: [UInt8]) -> [UInt8]? {
        let needle = Array("\"\(key)\"".utf8)
        guard let start = firstIndex(of: needle, in: body) else { return nil }
        var index = start + needle.count
        while index < body.count, body[index] == UInt8(ascii: " ") || body[index] == UInt8(ascii: ":") { index += 1 }
        guard index < body.count, body[index] == UInt8(ascii: "{") else { return nil }
        var depth = 0
        var inString = false
        var escaped = false
        for position in index..<body.count {
            let byte = body[position]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return Array(body[index...position]) }
            default: break
            }
        }
        return nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return start }
        }
        return nil
    }
}
