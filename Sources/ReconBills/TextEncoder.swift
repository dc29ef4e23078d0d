/// `String` → bytes in one encoding, for the bill writers; text the encoding cannot hold is an
/// error, never a `?`.
public struct TextEncoder: Sendable {
    public let encoding: TextEncoding
    private let converter: IconvConverter?

    /// UTF-8 needs no iconv, so this one cannot fail to open.
    public static let utf8 = TextEncoder()

    private init() {
        encoding = .utf8
        converter = nil
    }

    public init(_ encoding: TextEncoding) throws(TextCodingError) {
        self.encoding = encoding
        guard encoding != .utf8 else {
            converter = nil
            return
        }
        guard let converter = IconvConverter(from: "UTF-8", to: encoding.name) else {
            throw TextCodingError(
                encoding: encoding, byteOffset: 0, reason: "glibc iconv cannot convert to \(encoding.name)")
        }
        self.converter = converter
    }

    public func encode(_ text: String) throws(TextCodingError) -> [UInt8] {
        var text = text
        guard let converter, !text.utf8.allSatisfy({ $0 < 0x80 }) else { return Array(text.utf8) }
        let result: Result<[UInt8], IconvConverter.Failure> = text.withUTF8 { utf8 in
            Result { () throws(IconvConverter.Failure) in try converter.convert(UnsafeRawBufferPointer(utf8)) }
        }
        switch result {
        case .success(let bytes):
            return bytes
        case .failure(.invalid(let offset, _)):
            let character = String(decoding: text.utf8.dropFirst(offset).prefix(4), as: UTF8.self).prefix(1)
            throw TextCodingError(
                encoding: encoding, byteOffset: offset,
                reason: "\"\(character)\" (UTF-8 byte \(offset)) cannot be written in \(encoding.name)")
        }
    }
}
