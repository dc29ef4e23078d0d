import Crypto
import Foundation
import ReconBlocking

/// Hashes of files read in 1 MiB chunks, so a bill of any size is hashed in constant memory.
public enum FileDigest {
    /// On a thread of our own: hashing a bill of gigabytes must not hold a cooperative thread.
    public static func sha256(path: String) async throws -> String {
        try await BlockingExecutor.shared.run {
            var hasher = SHA256()
            try forEachChunk(path) { hasher.update(bufferPointer: $0) }
            return hex(hasher.finalize())
        }
    }

    /// The file's size in bytes (0 when it cannot be read).
    static func size(_ path: String) -> Int64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The whole file, or only `range` of it (bytes past its end are simply not there).
    static func forEachChunk(
        _ path: String, range: Range<Int64>? = nil, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ChannelError.transient("cannot read the downloaded file \(path)")
        }
        defer { try? handle.close() }
        var left = Int64.max
        if let range {
            try handle.seek(toOffset: UInt64(max(0, range.lowerBound)))
            left = Int64(range.count)
        }
        while left > 0, let chunk = try handle.read(upToCount: Int(min(left, 1 << 20))), !chunk.isEmpty {
            left -= Int64(chunk.count)
            try chunk.withUnsafeBytes(body)
        }
    }
}
