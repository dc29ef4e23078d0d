import CZlib

/// The CRC-32 of ZIP and gzip (ISO 3309, polynomial 0xEDB88320), computed by zlib.
public enum CRC32 {
    /// Continues `crc` (0 to start) over `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        let next = crc32_z(uLong(crc), base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count))
        // zlib keeps the value in the low 32 bits of a uLong.
        return UInt32(truncatingIfNeeded: next)
    }

    /// The CRC-32 of a whole sequence ("123456789" gives 0xCBF43926).
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ update(0, UnsafeRawBufferPointer($0)) }) {
            return crc
        }
        // Not contiguous: go through a small buffer rather than copying the whole sequence.
        var crc: UInt32 = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkSize)
        for byte in bytes {
            buffer.append(byte)
            if buffer.count == chunkSize {
                crc = buffer.withUnsafeBytes { update(crc, $0) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        return buffer.withUnsafeBytes { update(crc, $0) }
    }

    private static let chunkSize = 1 << 16
}
