import CZlib

/// What Inflater and Deflater share about zlib: piece sizes, window bits and error text.
enum Zlib {
    /// Output pieces handed to callers, and the read size for files: 64 KiB.
    static let chunkSize = 1 << 16

    /// zlib's own message for the last failure (e.g. "incorrect data check"), else the code's name.
    static func message(_ stream: UnsafeMutablePointer<z_stream>, code: Int32) -> String {
        if let text = stream.pointee.msg { return String(cString: text) }
        switch code {
        case Z_NEED_DICT: return "the stream needs a preset dictionary"
        case Z_DATA_ERROR: return "corrupt data"
        case Z_MEM_ERROR: return "out of memory"
        case Z_STREAM_ERROR: return "inconsistent stream state"
        case Z_VERSION_ERROR: return "zlib version mismatch"
        default: return "zlib error \(code)"
        }
    }
}

extension Inflater.Format {
    /// zlib's windowBits: negative for raw deflate, +16 to read or write the gzip wrapper.
    var windowBits: Int32 {
        switch self {
        case .raw: -15
        case .zlib: 15
        case .gzip: 16 + 15
        }
    }

    /// The `check` named in errors about this format's data.
    var checkName: String {
        switch self {
        case .raw: "deflate"
        case .zlib: "zlib"
        case .gzip: "gzip"
        }
    }
}
