/// Writes a ZIP archive entry by entry, streaming: each entry is compressed and checksummed as
/// its bytes come, and its local header is patched with the real CRC-32 and sizes afterwards
/// (no data descriptors, which some readers handle badly). For the mock channel server and tests.
///
/// Names are written exactly as given, unsafe ones included, so tests can build hostile archives.
/// The UTF-8 flag (bit 11) is set only with `utf8Names`, since Alipay's GBK names go without it.
/// Every entry is dated 1980-01-01 00:00, so the same input always gives the same bytes.
/// No ZIP64: entries and the archive stay under 4 GiB, at most 65,534 entries.
///
/// Not Sendable: one writer on one thread.
public final class ZipWriter {
    public enum Method: UInt16, Sendable {
        case stored = 0
        case deflate = 8
    }

    public let path: String
    public let utf8Names: Bool
    private let file: WritableFile
    private var centralRecords: [[UInt8]] = []
    private var closed = false
    /// Set when an entry failed half-way: the file is not a valid archive any more.
    private var broken = false

    /// Creates (or empties) the archive file at `path`.
    public init(path: String, utf8Names: Bool = false) throws(ArchiveError) {
        self.path = path
        self.utf8Names = utf8Names
        file = try WritableFile(path: path)
    }

    /// Adds one entry; `contents` calls `write` with the entry's bytes, in as many pieces as it likes.
    public func addEntry(
        nameBytes: [UInt8], method: Method = .deflate, contents: (_ write: ([UInt8]) throws -> Void) throws -> Void
    ) throws {
        try checkUsable()
        guard nameBytes.count <= 0xFFFF else { throw failure("the entry name is over 65,535 bytes") }
        // 0xFFFF itself is ZIP64's "see the ZIP64 record" marker, so stop one short.
        guard centralRecords.count < 0xFFFE else { throw failure("over 65,534 entries would need ZIP64") }
        guard file.offset < 0xFFFF_FFFF else { throw failure("the archive passed 4 GiB, which would need ZIP64") }
        broken = true
        var header = ZipHeader(nameBytes: nameBytes, method: method, utf8Name: utf8Names, localOffset: file.offset)
        try file.append(header.localRecord())
        let deflater = method == .deflate ? try Deflater(format: .raw, label: path) : nil
        var crc: UInt32 = 0
        var uncompressed: Int64 = 0
        let start = file.offset
        try contents { bytes in
            try bytes.withUnsafeBytes { raw in
                crc = CRC32.update(crc, raw)
                uncompressed += Int64(raw.count)
                if let deflater {
                    try deflater.push(raw) { try self.file.append($0) }
                } else {
                    try self.file.append(raw)
                }
            }
        }
        try deflater?.finish { try self.file.append($0) }
        let compressed = file.offset - start
        guard compressed < 0xFFFF_FFFF, uncompressed < 0xFFFF_FFFF else {
            throw failure("the entry is 4 GiB or more, which would need ZIP64")
        }
        header.crc32 = crc
        header.compressedSize = UInt32(compressed)
        header.uncompressedSize = UInt32(uncompressed)
        try file.patch(header.sizeFields(), at: header.localOffset + 14)
        centralRecords.append(header.centralRecord())
        broken = false
    }

    /// Writes the central directory and the end record and closes the file. Safe to call twice.
    public func close() throws(ArchiveError) {
        guard !closed else { return }
        closed = true
        guard !broken else {
            try? file.close()
            throw failure("an entry failed half-way, so the archive was left incomplete")
        }
        let directoryOffset = file.offset
        guard directoryOffset < 0xFFFF_FFFF else { throw failure("the archive passed 4 GiB, which would need ZIP64") }
        for record in centralRecords { try file.append(record) }
        let directorySize = file.offset - directoryOffset
        guard directorySize < 0xFFFF_FFFF else { throw failure("the central directory needs ZIP64") }
        var end = ZipRecordBuilder()
        end.u32(ZipRecords.endRecordSignature)
        end.u16(0)  // this disk
        end.u16(0)  // the disk the central directory starts on
        end.u16(UInt16(centralRecords.count))
        end.u16(UInt16(centralRecords.count))
        end.u32(UInt32(directorySize))
        end.u32(UInt32(directoryOffset))
        end.u16(0)  // comment length
        try file.append(end.bytes)
        try file.close()
    }

    private func checkUsable() throws(ArchiveError) {
        guard !closed else { throw failure("the archive is already closed") }
        guard !broken else { throw failure("an earlier entry failed half-way") }
    }

    private func failure(_ reason: String) -> ArchiveError {
        ArchiveError(file: path, check: "zip writer", reason: reason)
    }
}

extension ZipWriter {
    /// Writes a whole archive from entries held in memory.
    public static func write(
        path: String, entries: [(nameBytes: [UInt8], data: [UInt8])], method: Method = .deflate,
        utf8Names: Bool = false
    ) throws {
        let writer = try ZipWriter(path: path, utf8Names: utf8Names)
        for entry in entries {
            try writer.addEntry(nameBytes: entry.nameBytes, method: method) { write in try write(entry.data) }
        }
        try writer.close()
    }
}
