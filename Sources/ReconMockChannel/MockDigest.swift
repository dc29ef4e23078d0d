import Crypto
import Foundation

/// Hashes the mock announces for the files it serves.
enum MockDigest {
    static func sha256(path: String) throws -> String {
        var hasher = SHA256()
        try forEachChunk(path) { hasher.update(data: $0) }
        return hex(hasher.finalize())
    }

    static func sha1(path: String) throws -> String {
        var hasher = Insecure.SHA1()
        try forEachChunk(path) { hasher.update(data: $0) }
        return hex(hasher.finalize())
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func forEachChunk(_ path: String, _ body: (Data) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile) }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { try body(chunk) }
    }
}

extension MockDigest {
    /// Lowercase hex SHA-256 of UTF-8 text (UnionPay signs this, not the text).
    static func sha256(text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }
}
