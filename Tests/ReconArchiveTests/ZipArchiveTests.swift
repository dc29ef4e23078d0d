import Foundation
import Testing

@testable import ReconArchive

@Suite struct ZipArchiveTests {
    static let details = TestData.mixed(count: 600_000, seed: 3)
    static let summary = Array("#合计,1,50.00\r\n".utf8)

    func readAll(_ archive: ZipArchive, _ entry: ZipEntry) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try archive.read(entry) { bytes.append(contentsOf: $0) }
        return bytes
    }

    @Test func aGBKNamedEntryAndAStoredEntryRoundTrip() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("bill.csv.zip")
        let writer = try ZipWriter(path: path)
        try writer.addEntry(nameBytes: ZipTestFiles.gbkName, method: .deflate) { write in
            try TestData.pieces(ZipArchiveTests.details, chunk: 50_001) { try write(Array($0)) }
        }
        try writer.addEntry(nameBytes: Array("summary.csv".utf8), method: .stored) { write in
            try write(ZipArchiveTests.summary)
        }
        try writer.addEntry(nameBytes: Array("empty/".utf8), method: .stored) { _ in }
        try writer.close()

        let archive = try ZipArchive(path: path, maxEntryBytes: 1 << 20, maxTotalBytes: 2 << 20)
        #expect(
            archive.entries.map(\.nameBytes) == [ZipTestFiles.gbkName, Array("summary.csv".utf8), Array("empty/".utf8)])
        let first = archive.entries[0]
        #expect(first.name == "\\xD2\\xB5\\xCE\\xF1.csv")
        // Given the code page the archiver wrote (GBK: the caller decodes it), messages show the name.
        let named = try ZipArchive(
            path: path, maxEntryBytes: 1 << 20, maxTotalBytes: 2 << 20,
            legacyNames: { $0 == ZipTestFiles.gbkName ? "业务.csv" : nil })
        #expect(named.entries.map(\.name) == ["业务.csv", "summary.csv", "empty/"])
        #expect(first.method == 8 && first.flags & (1 << 11) == 0)
        #expect(first.uncompressedSize == Int64(ZipArchiveTests.details.count))
        #expect(first.compressedSize < first.uncompressedSize)
        #expect(first.crc32 == CRC32.checksum(ZipArchiveTests.details))
        #expect(try readAll(archive, first) == ZipArchiveTests.details)
        #expect(archive.entries[1].method == 0 && archive.entries[1].name == "summary.csv")
        #expect(try readAll(archive, archive.entries[1]) == ZipArchiveTests.summary)
        #expect(archive.entries[2].isDirectory && !first.isDirectory)
        #expect(try readAll(archive, archive.entries[2]).isEmpty)

        try archive.extract(first, to: folder.file("details.csv"))
        #expect(try folder.read("details.csv") == ZipArchiveTests.details)
        #expect(ZipArchive.looksLikeZip(try folder.read("bill.csv.zip").prefix(4)))
    }

    @Test func anEmptyArchiveOpensWithNoEntries() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("empty.zip")
        try ZipWriter.write(path: path, entries: [])
        let bytes = try folder.read("empty.zip")
        #expect(bytes.count == 22 && ZipArchive.looksLikeZip(bytes))
        #expect(try ZipArchive(path: path, maxEntryBytes: 1, maxTotalBytes: 1).entries.isEmpty)
    }

    @Test func looksLikeZipOnlyAcceptsTheTwoSignatures() {
        #expect(ZipArchive.looksLikeZip([0x50, 0x4B, 0x03, 0x04, 0x14]))
        #expect(ZipArchive.looksLikeZip([0x50, 0x4B, 0x05, 0x06]))
        #expect(!ZipArchive.looksLikeZip([0x50, 0x4B, 0x01, 0x02]))
        #expect(!ZipArchive.looksLikeZip(Array("<html>".utf8)))
        #expect(!ZipArchive.looksLikeZip([0x50, 0x4B]))
    }

    @Test func aFlippedByteInStoredDataFailsTheCRC() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("a.zip")
        try ZipWriter.write(path: path, entries: [(Array("a.csv".utf8), ZipArchiveTests.summary)], method: .stored)
        var bytes = try folder.read("a.zip")
        bytes[30 + 5 + 3] ^= 0x20  // local header, name "a.csv", then the data
        try folder.write(bytes, to: "a.zip")
        let archive = try ZipArchive(path: path, maxEntryBytes: 1000, maxTotalBytes: 1000)
        let error = #expect(throws: ArchiveError.self) {
            try archive.extract(archive.entries[0], to: folder.file("out.csv"))
        }
        #expect(error?.check == "zip CRC-32")
        #expect(error?.entry == "a.csv" && error?.file == path)
        #expect(!FileManager.default.fileExists(atPath: folder.file("out.csv")))
    }

    /// A reader that refuses the damaged bytes (as a parser would, on a cut-off character) hears
    /// the archive's error, not its own: the damage is the archive's. With sound bytes its own
    /// refusal comes back as it was.
    @Test func theArchivesErrorComesBeforeTheReadersRefusal() throws {
        struct Refused: Error, Equatable {}
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("a.zip")
        try ZipWriter.write(path: path, entries: [(Array("a.csv".utf8), ZipArchiveTests.summary)], method: .stored)
        let sound = try ZipArchive(path: path, maxEntryBytes: 1000, maxTotalBytes: 1000)
        #expect(throws: Refused()) { try sound.read(sound.entries[0]) { _ in throw Refused() } }
        var bytes = try folder.read("a.zip")
        bytes[30 + 5 + 3] ^= 0x20
        try folder.write(bytes, to: "a.zip")
        let damaged = try ZipArchive(path: path, maxEntryBytes: 1000, maxTotalBytes: 1000)
        var delivered = 0
        let error = #expect(throws: ArchiveError.self) {
            try damaged.read(damaged.entries[0]) { _ in
                delivered += 1
                throw Refused()
            }
        }
        #expect(error?.check == "zip CRC-32" && error?.entry == "a.csv")
        #expect(delivered == 1)
    }

    @Test(arguments: [0.1, 0.5, 0.9])
    func aFlippedByteInDeflatedDataIsRefused(position: Double) throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("a.zip")
        try ZipWriter.write(path: path, entries: [(Array("a.csv".utf8), ZipArchiveTests.details)])
        var bytes = try folder.read("a.zip")
        let archive = try ZipArchive(path: path, maxEntryBytes: 1 << 20, maxTotalBytes: 1 << 20)
        let dataStart = 30 + 5
        bytes[dataStart + Int(Double(archive.entries[0].compressedSize) * position)] ^= 0x10
        try folder.write(bytes, to: "a.zip")
        let damaged = try ZipArchive(path: path, maxEntryBytes: 1 << 20, maxTotalBytes: 1 << 20)
        let error = #expect(throws: ArchiveError.self) { _ = try readAll(damaged, damaged.entries[0]) }
        #expect(["zip CRC-32", "deflate", "zip size"].contains(error?.check ?? ""))
        #expect(error?.entry == "a.csv")
    }
}
