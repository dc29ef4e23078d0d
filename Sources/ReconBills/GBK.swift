/// One-off GBK conversions. Parsers and writers that convert many fields keep a `TextDecoder` or
/// `TextEncoder` instead, which opens its iconv descriptor once.
public enum GBK {
    /// Strict: "not valid GBK at byte N" for the first bad byte.
    public static func decode(_ bytes: some Collection<UInt8>) throws(TextCodingError) -> String {
        try TextDecoder(.gbk).decode(bytes)
    }

    public static func encode(_ text: String) throws(TextCodingError) -> [UInt8] {
        try TextEncoder(.gbk).encode(text)
    }
}
