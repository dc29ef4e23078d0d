#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Inflater {
    /// Decompresses a whole buffer held in memory (small inputs: responses, tests).
    public static func inflate(
        _ data: [UInt8], format: Format, maxOutputBytes: Int64, label: String
    ) throws(ArchiveError) -> [UInt8] {
        let inflater = try Inflater(format: format, maxOutputBytes: maxOutputBytes, label: label)
        var result: [UInt8] = []
        try data.withUnsafeBufferPointer { (raw) throws(ArchiveError) in
            try inflater.pushOwnErrors(UnsafeRawBufferPointer(raw)) { result.append(contentsOf: $0) }
        }
        try inflater.finish()
        return result
    }

    /// Decompresses the file at `path` into `outputPath`, 64 KiB at a time, and returns the
    /// bytes written. On any failure the partial output file is removed.
    public static func inflateFile(
        at path: String, to outputPath: String, format: Format, maxOutputBytes: Int64
    ) throws(ArchiveError) -> Int64 {
        let input = try ReadableFile(path: path)
        let inflater = try Inflater(format: format, maxOutputBytes: maxOutputBytes, label: path)
        let output = try WritableFile(path: outputPath)
        do {
            var buffer = [UInt8](repeating: 0, count: Zlib.chunkSize)
            var offset: Int64 = 0
            while true {
                let got = try buffer.withUnsafeMutableBufferPointer { (raw) throws(ArchiveError) in
                    try input.read(at: offset, into: UnsafeMutableRawBufferPointer(raw))
                }
                if got == 0 { break }
                offset += Int64(got)
                try buffer.withUnsafeBufferPointer { (raw) throws(ArchiveError) in
                    try inflater.pushOwnErrors(UnsafeRawBufferPointer(start: raw.baseAddress, count: got)) {
                        (piece) throws(ArchiveError) in try output.append(piece)
                    }
                }
            }
            try inflater.finish()
            try output.close()
        } catch {
            try? output.close()
            unlink(outputPath)
            throw error
        }
        return inflater.totalOut
    }

    /// push, for callers whose output can only fail with ArchiveError, so the error stays typed.
    func pushOwnErrors(
        _ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void
    ) throws(ArchiveError) {
        do {
            try push(input) { try output($0) }
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw ArchiveError(file: label, entry: entry, check: format.checkName, reason: "\(error)")
        }
    }
}
