/// The End Of Central Directory record: where the central directory is and how many entries it has.
struct ZipEndRecord {
    var offset: Int64
    var entryCount: Int
    var centralDirectoryOffset: Int64
    var centralDirectorySize: Int64

    /// The central directory is read into memory, so its size is capped (65,535 entries of
    /// ordinary names take a few MiB).
    static let maxCentralDirectoryBytes: Int64 = 64 << 20

    /// Searches the last 65,557 bytes backwards for an end record whose comment reaches exactly
    /// to the end of the file, then checks what this reader supports.
    static func find(in file: ReadableFile) throws(ArchiveError) -> ZipEndRecord {
        func refuse(_ reason: String) -> ArchiveError {
            ArchiveError(file: file.path, check: "zip structure", reason: reason)
        }
        guard file.size > 0 else { throw refuse("the file is empty, not a ZIP archive") }
        guard file.size >= Int64(ZipRecords.endRecordLength) else {
            throw refuse("the file is \(file.size) bytes, too short for a ZIP archive")
        }
        let tailLength = Int(min(file.size, Int64(ZipRecords.endRecordSearchLength)))
        let tailStart = file.size - Int64(tailLength)
        guard let tail = try file.read(at: tailStart, count: tailLength) else {
            throw refuse("the file shrank while it was read")
        }
        var candidate = tailLength - ZipRecords.endRecordLength
        while candidate >= 0 {
            if let fields = ZipFields(tail, at: candidate, length: ZipRecords.endRecordLength),
                fields.u32(0) == ZipRecords.endRecordSignature,
                candidate + ZipRecords.endRecordLength + Int(fields.u16(20)) == tailLength
            {
                return try parse(
                    fields, tail: tail, at: candidate, fileOffset: tailStart + Int64(candidate), file: file)
            }
            candidate -= 1
        }
        throw refuse("no end of central directory record: not a ZIP archive, or a truncated one")
    }

    private static func parse(
        _ fields: ZipFields, tail: [UInt8], at index: Int, fileOffset: Int64, file: ReadableFile
    ) throws(ArchiveError) -> ZipEndRecord {
        func refuse(_ reason: String) -> ArchiveError {
            ArchiveError(file: file.path, check: "zip structure", reason: reason)
        }
        let disk = fields.u16(4)
        let centralDisk = fields.u16(6)
        let entriesOnDisk = fields.u16(8)
        let entries = fields.u16(10)
        let size = fields.u32(12)
        let offset = fields.u32(16)
        // A ZIP64 locator sits right before the end record; 0xFFFF.. values point to ZIP64 fields.
        let locator = ZipFields(tail, at: index - ZipRecords.zip64LocatorLength, length: 4)
        if locator?.u32(0) == ZipRecords.zip64LocatorSignature || entries == 0xFFFF || size == 0xFFFF_FFFF
            || offset == 0xFFFF_FFFF
        {
            throw refuse("ZIP64 archives are not supported")
        }
        guard disk == 0, centralDisk == 0, entriesOnDisk == entries else {
            throw refuse("multi-disk (split) archives are not supported")
        }
        let record = ZipEndRecord(
            offset: fileOffset, entryCount: Int(entries), centralDirectoryOffset: Int64(offset),
            centralDirectorySize: Int64(size))
        guard record.centralDirectoryOffset + record.centralDirectorySize == fileOffset else {
            throw refuse(
                "the central directory (offset \(offset), \(size) bytes) does not end where the end record "
                    + "starts (offset \(fileOffset)): the file is damaged or has bytes prepended")
        }
        guard record.centralDirectorySize <= maxCentralDirectoryBytes else {
            throw refuse(
                "the central directory is \(size) bytes, over the \(maxCentralDirectoryBytes) this reader reads")
        }
        return record
    }
}
