#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ZipArchive {
    /// Streams the entry's uncompressed bytes to `chunk`, 64 KiB at a time, then checks its
    /// CRC-32 ("zip CRC-32") and size ("zip size") against the central directory. Output stops
    /// at the declared size, so an entry that lies about it never gets past that. Until this
    /// returns, the bytes given to `chunk` are unverified.
    ///
    /// The archive's own checks come first: when `chunk` refuses the bytes (a parser finding a
    /// cut-off character), the rest of the entry is still unpacked, without delivering it, and a
    /// damaged entry is reported as the archive's error; the refusal only if the entry is sound.
    /// A cancellation stops at once.
    public func read(_ entry: ZipEntry, chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        let dataOffset = try dataOffset(of: entry)
        var crc: UInt32 = 0
        var size: Int64 = 0
        var refusal: (any Error)?
        let deliver: (UnsafeRawBufferPointer) throws -> Void = { bytes in
            crc = CRC32.update(crc, bytes)
            size += Int64(bytes.count)
            guard refusal == nil else { return }
            do {
                try chunk(bytes)
            } catch let cancelled as CancellationError {
                throw cancelled
            } catch {
                refusal = error
            }
        }
        if entry.method == ZipRecords.methodStored {
            try forEachPiece(from: dataOffset, count: entry.compressedSize, entry: entry, deliver)
        } else {
            try inflate(entry, from: dataOffset, deliver)
        }
        guard size == entry.uncompressedSize else {
            throw ArchiveError(
                file: path, entry: entry.name, check: "zip size",
                reason: "unpacks to \(size) bytes, the central directory declares \(entry.uncompressedSize)")
        }
        guard crc == entry.crc32 else {
            throw ArchiveError(
                file: path, entry: entry.name, check: "zip CRC-32",
                reason: "the data has CRC-32 \(hex(crc)), the central directory says \(hex(entry.crc32))")
        }
        if let refusal { throw refusal }
    }

    /// Writes the entry to `outputPath` (the caller picks a safe path), streaming; on any
    /// failure, including a CRC-32 mismatch found at the end, the partial file is removed.
    public func extract(_ entry: ZipEntry, to outputPath: String) throws {
        let output = try WritableFile(path: outputPath)
        do {
            try read(entry) { try output.append($0) }
            try output.close()
        } catch {
            try? output.close()
            unlink(outputPath)
            throw error
        }
    }

    /// Reads the entry's local header and returns where its data starts. The local header's
    /// own name and extra lengths count here; they may differ from the central directory's.
    private func dataOffset(of entry: ZipEntry) throws(ArchiveError) -> Int64 {
        func refuse(_ reason: String) -> ArchiveError {
            ArchiveError(file: path, entry: entry.name, check: "zip structure", reason: reason)
        }
        guard let header = try file.read(at: entry.localHeaderOffset, count: ZipRecords.localHeaderLength),
            let fields = ZipFields(header, at: 0, length: ZipRecords.localHeaderLength),
            fields.u32(0) == ZipRecords.localHeaderSignature
        else {
            throw refuse("no local header at offset \(entry.localHeaderOffset)")
        }
        guard fields.u16(8) == entry.method else {
            throw refuse("the local header says method \(fields.u16(8)), the central directory \(entry.method)")
        }
        let nameLength = Int(fields.u16(26))
        let localName = try file.read(
            at: entry.localHeaderOffset + Int64(ZipRecords.localHeaderLength), count: nameLength)
        guard localName == entry.nameBytes else {
            throw refuse("the local header names a different file than the central directory")
        }
        let start = entry.localHeaderOffset + Int64(ZipRecords.localHeaderLength + nameLength + Int(fields.u16(28)))
        guard start + entry.compressedSize <= centralDirectoryOffset else {
            throw refuse("the entry's data would run into the central directory")
        }
        return start
    }

    private func inflate(
        _ entry: ZipEntry, from offset: Int64, _ deliver: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        // The cap is the declared size: the size check after would refuse anything longer anyway.
        let inflater = try Inflater(
            format: .raw, maxOutputBytes: entry.uncompressedSize, label: path, entry: entry.name)
        do {
            try forEachPiece(from: offset, count: entry.compressedSize, entry: entry) { piece in
                try inflater.push(piece, output: deliver)
            }
            try inflater.finish()
        } catch let error as ArchiveError where error.check == "size cap" {
            throw ArchiveError(
                file: path, entry: entry.name, check: "zip size",
                reason: "unpacks to more than the \(entry.uncompressedSize) bytes the central directory declares")
        }
    }

    /// Reads `count` bytes from `offset` in 64 KiB pieces.
    private func forEachPiece(
        from offset: Int64, count: Int64, entry: ZipEntry, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Zlib.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < count {
            let want = Int(min(Int64(buffer.count), count - done))
            let got = try file.read(at: offset + done, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            guard got == want else {
                throw ArchiveError(
                    file: path, entry: entry.name, check: "zip structure",
                    reason: "the file ends inside the entry's data")
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<want]))
            done += Int64(want)
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
