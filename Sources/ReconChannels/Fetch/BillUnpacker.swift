import Foundation
import ReconArchive
import ReconBills

/// Streams a downloaded bill's content, unpacked as it was packed: as is, gunzipped, or one entry
/// of a zip archive. Unpacking stops at the channel's cap, so a bomb is refused, never written out;
/// archive entries with names that would escape a folder are refused when the archive is opened.
enum BillUnpacker {
    enum Packing: Sendable {
        case none
        case gzip
        /// The one entry whose name matches the glob.
        case zip(entryGlob: String)
    }

    static func forEachChunk(
        _ path: String, packing: Packing, maxBytes: Int64, label: String,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        switch packing {
        case .none:
            try FileDigest.forEachChunk(path, body)
        case .gzip:
            let inflater = try Inflater(format: .gzip, maxOutputBytes: maxBytes, label: label)
            try FileDigest.forEachChunk(path) { chunk in try inflater.push(chunk, output: body) }
            try inflater.finish()
        case .zip(let glob):
            let archive = try ZipArchive(
                path: path, maxEntryBytes: maxBytes, maxTotalBytes: maxBytes * 4, legacyNames: ZipArchive.gbkNames)
            let matching = archive.entries.filter { !$0.isDirectory && fnmatch(glob, $0.name, 0) == 0 }
            guard matching.count == 1, let entry = matching.first else {
                let names = archive.entries.map(\.name).joined(separator: ", ")
                throw ArchiveError(
                    file: label, check: "zip entry",
                    reason: "\(matching.count) entries match \(glob) (the archive holds: \(names)); exactly one must")
            }
            try archive.read(entry, chunk: body)
        }
    }
}

extension ZipArchive {
    /// Names in GBK, as Chinese channels' archivers write them without the UTF-8 flag: shown as
    /// 业务明细, not \xD2\xB5\xCE\xF1, in every message.
    static let gbkNames: LegacyNames = { try? GBK.decode($0) }
}
