/// Reads and checks the central directory: one record per entry, in order.
enum ZipCentralDirectory {
    static func read(from file: ReadableFile, end: ZipEndRecord, legacyNames: ZipArchive.LegacyNames?)
        throws(ArchiveError) -> [ZipEntry]
    {
        let size = Int(end.centralDirectorySize)
        guard let directory = try file.read(at: end.centralDirectoryOffset, count: size) else {
            throw ArchiveError(file: file.path, check: "zip structure", reason: "the central directory is cut short")
        }
        var entries: [ZipEntry] = []
        var seen = Set<[UInt8]>()
        var position = 0
        for index in 0..<end.entryCount {
            let (entry, next) = try record(
                directory, at: position, number: index + 1, file: file, end: end, legacyNames: legacyNames)
            guard seen.insert(entry.nameBytes).inserted else {
                throw ArchiveError(
                    file: file.path, entry: entry.name, check: "entry name",
                    reason: "the name appears twice in the archive")
            }
            entries.append(entry)
            position = next
        }
        guard position == directory.count else {
            throw ArchiveError(
                file: file.path, check: "zip structure",
                reason:
                    "the central directory has \(directory.count - position) bytes after its \(end.entryCount) entries")
        }
        return entries
    }

    /// One central directory record at `position`: the entry and where the next record starts.
    private static func record(
        _ directory: [UInt8], at position: Int, number: Int, file: ReadableFile, end: ZipEndRecord,
        legacyNames: ZipArchive.LegacyNames?
    ) throws(ArchiveError) -> (ZipEntry, Int) {
        func refuse(_ check: String, _ entry: String?, _ reason: String) -> ArchiveError {
            ArchiveError(file: file.path, entry: entry, check: check, reason: reason)
        }
        guard let fields = ZipFields(directory, at: position, length: ZipRecords.centralHeaderLength),
            fields.u32(0) == ZipRecords.centralHeaderSignature
        else {
            throw refuse(
                "zip structure", nil, "central directory record \(number) of \(end.entryCount) is missing or damaged")
        }
        let nameLength = Int(fields.u16(28))
        let variableLength = nameLength + Int(fields.u16(30)) + Int(fields.u16(32))
        let nameStart = position + ZipRecords.centralHeaderLength
        guard variableLength <= directory.count - nameStart else {
            throw refuse("zip structure", nil, "central directory record \(number) runs past the directory's end")
        }
        let entry = ZipEntry(
            nameBytes: Array(directory[nameStart..<nameStart + nameLength]), method: fields.u16(10),
            flags: fields.u16(8), crc32: fields.u32(16), compressedSize: Int64(fields.u32(20)),
            uncompressedSize: Int64(fields.u32(24)), localHeaderOffset: Int64(fields.u32(42)), legacyNames: legacyNames)
        if let problem = ZipEntryName.problem(entry.nameBytes) { throw refuse("entry name", entry.name, problem) }
        if entry.flags & (ZipRecords.flagEncrypted | ZipRecords.flagStrongEncryption) != 0 {
            throw refuse("zip structure", entry.name, "the entry is encrypted, which is not supported")
        }
        if fields.u32(20) == 0xFFFF_FFFF || fields.u32(24) == 0xFFFF_FFFF || fields.u32(42) == 0xFFFF_FFFF {
            throw refuse("zip structure", entry.name, "ZIP64 archives are not supported")
        }
        guard fields.u16(34) == 0 else {
            throw refuse("zip structure", entry.name, "multi-disk (split) archives are not supported")
        }
        guard entry.method == ZipRecords.methodStored || entry.method == ZipRecords.methodDeflate else {
            throw refuse(
                "zip structure", entry.name,
                "compression method \(entry.method) is not supported (only stored and deflate)")
        }
        guard entry.method != ZipRecords.methodStored || entry.compressedSize == entry.uncompressedSize else {
            throw refuse(
                "zip structure", entry.name,
                "a stored entry declares \(entry.compressedSize) bytes stored but \(entry.uncompressedSize) unpacked")
        }
        guard
            entry.localHeaderOffset + Int64(ZipRecords.localHeaderLength) + entry.compressedSize
                <= end.centralDirectoryOffset
        else {
            throw refuse("zip structure", entry.name, "the entry's data would run into the central directory")
        }
        return (entry, nameStart + variableLength)
    }
}
