/// Entry names: the safety rules applied when an archive is opened, and the text shown in messages.
enum ZipEntryName {
    /// Why `bytes` may not be used as a relative path, or nil when it may. Works on raw bytes,
    /// so it holds for GBK names too (a GBK trail byte can be 0x5C, which we then treat as a
    /// separator: that can only refuse more, never less).
    static func problem(_ bytes: [UInt8]) -> String? {
        let slash = UInt8(ascii: "/")
        let backslash = UInt8(ascii: "\\")
        guard let first = bytes.first else { return "the name is empty" }
        if bytes.contains(0) { return "the name contains a NUL byte" }
        if first == slash || first == backslash { return "the name is an absolute path" }
        if bytes.count >= 2, bytes[1] == UInt8(ascii: ":"), isASCIILetter(first) {
            return "the name starts with a drive letter"
        }
        let components = bytes.split(omittingEmptySubsequences: false) { $0 == slash || $0 == backslash }
        if components.contains(where: { $0.elementsEqual("..".utf8) }) {
            return "the name has a '..' path component"
        }
        return nil
    }

    /// UTF-8 when valid; else what `legacyNames` makes of it; otherwise printable ASCII as is and
    /// every other byte (and `\`) as `\xHH`, so no byte of the name is lost.
    static func display(_ bytes: [UInt8], legacyNames: ZipArchive.LegacyNames? = nil) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        if let text = legacyNames?(bytes) { return text }
        var text = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + hexDigits(byte)
            }
        }
        return text
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func hexDigits(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }
}
