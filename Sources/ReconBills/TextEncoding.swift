/// The text encodings bills come in: WeChat writes UTF-8; Alipay and UnionPay write GBK; a
/// `bank_csv` profile says which (CHANNELS.md §4 `encoding`).
public enum TextEncoding: String, Sendable, Equatable, CaseIterable {
    case utf8 = "utf-8"
    case gbk
    case gb18030

    /// The name as messages and `iconv_open` spell it.
    public var name: String {
        switch self {
        case .utf8: "UTF-8"
        case .gbk: "GBK"
        case .gb18030: "GB18030"
        }
    }

    /// Whether `byte` can only ever be that ASCII character in this encoding. GBK trail bytes are
    /// 0x40–0xFE (GB18030's four-byte forms add 0x30–0x39), so ASCII below 0x30 (`,` TAB CR LF
    /// `"`) never occurs inside a multi-byte character and bytes can be split there before
    /// decoding; `;` 0x3B is safe too, but `|` 0x7C is a valid GBK trail byte and is not.
    public func isAlwaysASCII(_ byte: UInt8) -> Bool {
        switch self {
        case .utf8: byte < 0x80
        case .gbk: byte < 0x40
        case .gb18030: byte < 0x30 || (0x3A..<0x40).contains(byte)
        }
    }
}

/// Bytes that are not valid in the encoding, or text that cannot be written in it.
public struct TextCodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var encoding: TextEncoding
    /// Offset of the first bad byte (decoding) or UTF-8 byte (encoding) in the input.
    public var byteOffset: Int
    public var reason: String

    public var description: String { reason }

    static func invalid(_ encoding: TextEncoding, at offset: Int, incomplete: Bool = false) -> TextCodingError {
        let what = incomplete ? "cut off inside a character" : "not valid \(encoding.name)"
        return TextCodingError(encoding: encoding, byteOffset: offset, reason: "\(what) at byte \(offset)")
    }
}
