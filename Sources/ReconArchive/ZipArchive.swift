/// A ZIP archive on disk, read through its central directory with pread: the archive is never
/// loaded whole, only the end record, the central directory and one 64 KiB piece at a time.
///
/// Opening checks the structure, entry names and declared sizes; `read` checks each entry's
/// CRC-32 and size and caps its output at the declared size, since declared sizes can lie.
/// Stored and deflate entries only; ZIP64, encrypted and multi-disk archives are refused.
public struct ZipArchive: Sendable {
    public let path: String
    public let entries: [ZipEntry]
    public let maxEntryBytes: Int64
    public let maxTotalBytes: Int64
    let file: ReadableFile
    /// Where the central directory starts: no entry's data may reach past it.
    let centralDirectoryOffset: Int64

    /// Decodes a name that is not UTF-8 (an archiver's local code page, GBK for Chinese
    /// channels) for messages, or nil when the bytes are not in it either.
    public typealias LegacyNames = @Sendable ([UInt8]) -> String?

    /// Opens `path` and reads its central directory. Refuses ("size cap") any entry declaring
    /// more than `maxEntryBytes` or entries declaring more than `maxTotalBytes` together.
    /// `legacyNames` turns names that are not UTF-8 into text for messages (`ZipEntry.name`).
    public init(path: String, maxEntryBytes: Int64, maxTotalBytes: Int64, legacyNames: LegacyNames? = nil)
        throws(ArchiveError)
    {
        self.path = path
        self.maxEntryBytes = maxEntryBytes
        self.maxTotalBytes = maxTotalBytes
        file = try ReadableFile(path: path)
        let end = try ZipEndRecord.find(in: file)
        centralDirectoryOffset = end.centralDirectoryOffset
        entries = try ZipCentralDirectory.read(from: file, end: end, legacyNames: legacyNames)
        try checkDeclaredSizes()
    }

    /// True when the bytes start like a ZIP archive: a local header, or the end record of an empty archive.
    public static func looksLikeZip(_ firstBytes: some Collection<UInt8>) -> Bool {
        let prefix = Array(firstBytes.prefix(4))
        return prefix == [0x50, 0x4B, 0x03, 0x04] || prefix == [0x50, 0x4B, 0x05, 0x06]
    }

    /// The first entry whose name bytes are exactly `nameBytes`.
    public func entry(named nameBytes: [UInt8]) -> ZipEntry? {
        entries.first { $0.nameBytes == nameBytes }
    }

    private func checkDeclaredSizes() throws(ArchiveError) {
        var total: Int64 = 0
        for entry in entries {
            guard entry.uncompressedSize <= maxEntryBytes else {
                throw ArchiveError(
                    file: path, entry: entry.name, check: "size cap",
                    reason: "declares \(entry.uncompressedSize) bytes, over the cap of \(maxEntryBytes) per entry")
            }
            total += entry.uncompressedSize
            guard total <= maxTotalBytes else {
                throw ArchiveError(
                    file: path, entry: entry.name, check: "size cap",
                    reason: "the entries declare more than the cap of \(maxTotalBytes) bytes together")
            }
        }
    }
}
