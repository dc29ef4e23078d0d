/// What may be sent as `If-Range` to resume a download (RFC 9110 §13.1.5): a strong entity tag,
/// else a Last-Modified date. A weak tag does not promise identical bytes, so it is never used.
public enum RangeValidator {
    /// The validator of the entity in a response: its ETag if strong, else its Last-Modified;
    /// nil when it has neither (or only values that cannot be sent back).
    public static func of(_ headers: HTTPHeaders) -> String? {
        if let tag = headers["ETag"], tag.utf8.count >= 2, tag.hasPrefix("\""), tag.hasSuffix("\""), isSendable(tag) {
            return tag
        }
        if let date = headers["Last-Modified"], !date.hasPrefix("\""), !date.hasPrefix("W/"), isSendable(date) {
            return date
        }
        return nil
    }

    /// A value fit to go back as If-Range: not empty, short, printable ASCII only (a header
    /// value read back from disk must not inject a line).
    public static func isSendable(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 256 else { return false }
        return value.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
