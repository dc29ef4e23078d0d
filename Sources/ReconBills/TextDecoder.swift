/// Strict bytes → `String` for one encoding: a bad byte is an error naming its offset, never a
/// replacement character (CHANNELS.md §6, Encoding). Pure ASCII, the bulk of every bill, never
/// reaches iconv. A parser keeps one decoder, so its iconv descriptor is opened once.
public struct TextDecoder: Sendable {
    public let encoding: TextEncoding
    private let converter: IconvConverter?

    /// UTF-8 needs no iconv, so this one cannot fail to open.
    public static let utf8 = TextDecoder()

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
        guard let converter = IconvConverter(from: encoding.name, to: "UTF-8") else {
            throw TextCodingError(
                encoding: encoding, byteOffset: 0, reason: "glibc iconv cannot convert from \(encoding.name)")
        }
        self.converter = converter
    }

    public func decode(_ bytes: UnsafeRawBufferPointer) throws(TextCodingError) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        guard let converter else { return try Self.validUTF8(bytes) }
        do {
            return String(decoding: try converter.convert(bytes), as: UTF8.self)
        } catch {
            switch error {
            case .invalid(let offset, let incomplete):
                throw TextCodingError.invalid(encoding, at: offset, incomplete: incomplete)
            }
        }
    }

    public func decode(_ bytes: some Collection<UInt8>) throws(TextCodingError) -> String {
        // Arrays and slices are decoded in place; anything else is copied first.
        let inPlace = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(TextCodingError) in try decode(UnsafeRawBufferPointer(buffer)) }
        }
        if let inPlace { return try inPlace.get() }
        return try decode(Array(bytes))
    }

    /// UTF-8 checked by the standard library's validation; only a bad line is walked scalar by
    /// scalar, so the error can say where it went wrong.
    private static func validUTF8(_ bytes: UnsafeRawBufferPointer) throws(TextCodingError) -> String {
        if let text = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) { return text }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            case .error(let length):
                throw TextCodingError.invalid(.utf8, at: offset, incomplete: offset + length == bytes.count)
            }
        }
    }
}
