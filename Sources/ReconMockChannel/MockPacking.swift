import Foundation
import ReconArchive

/// Packs generated bills the way channels ship them: gzip, zip, zlib.
enum MockPacking {
    static func gzip(_ source: String, to target: String) throws {
        try pack(source, to: target, format: .gzip)
    }

    /// `format` over the whole of `source`, streamed.
    static func pack(_ source: String, to target: String, format: Deflater.Format) throws {
        guard FileManager.default.createFile(atPath: target, contents: nil),
            let output = FileHandle(forWritingAtPath: target),
            let input = FileHandle(forReadingAtPath: source)
        else { throw CocoaError(.fileWriteUnknown) }
        defer {
            try? output.close()
            try? input.close()
        }
        let deflater = try Deflater(format: format)
        let write: (UnsafeRawBufferPointer) throws -> Void = { try output.write(contentsOf: Data($0)) }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            try chunk.withUnsafeBytes { try deflater.push($0, output: write) }
        }
        try deflater.finish(output: write)
    }

    /// A zip of the given files under the given (raw byte) names.
    static func zip(_ entries: [(name: [UInt8], path: String)], to target: String) throws {
        let writer = try ZipWriter(path: target)
        for entry in entries {
            try writer.addEntry(nameBytes: entry.name) { write in
                guard let input = FileHandle(forReadingAtPath: entry.path) else {
                    throw CocoaError(.fileReadNoSuchFile)
                }
                defer { try? input.close() }
                while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try write([UInt8](chunk)) }
            }
        }
        try writer.close()
    }
}
