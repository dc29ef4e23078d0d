import Foundation
import Testing

@testable import ReconArchive

@Suite struct ZipSafetyTests {
    func open(_ path: String, maxEntry: Int64 = 1 << 20, maxTotal: Int64 = 1 << 20) throws(ArchiveError) -> ZipArchive {
        try ZipArchive(path: path, maxEntryBytes: maxEntry, maxTotalBytes: maxTotal)
    }

    @Test(arguments: [
        ("../x", "'..' path component"), ("/etc/passwd", "absolute path"), ("a/../../x", "'..' path component"),
        ("a\\..\\x", "'..' path component"), ("\\x", "absolute path"), ("C:x", "drive letter"),
        ("bills/..", "'..' path component"), ("a\u{0}b", "NUL byte"), ("", "empty"),
    ])
    func unsafeNamesAreRefusedAtOpen(name: String, why: String) throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("evil.zip")
        try ZipWriter.write(path: path, entries: [(Array("ok.csv".utf8), [1]), (Array(name.utf8), [2])])
        let error = #expect(throws: ArchiveError.self) { _ = try open(path) }
        #expect(error?.check == "entry name")
        #expect(error?.reason.contains(why) == true)
    }

    @Test(arguments: ["..x", "a/..b/c", "x..", "业务明细.csv"])
    func namesThatOnlyLookOddAreAccepted(name: String) throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("fine.zip")
        try ZipWriter.write(path: path, entries: [(Array(name.utf8), [1])], utf8Names: true)
        #expect(try open(path).entries.map(\.name) == [name])
    }

    @Test func declaredSizesOverTheCapsAreRefusedAtOpen() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("big.zip")
        let data = [UInt8](repeating: 7, count: 600)
        try ZipWriter.write(path: path, entries: [(Array("a".utf8), data), (Array("b".utf8), data)])
        let perEntry = #expect(throws: ArchiveError.self) { _ = try open(path, maxEntry: 599, maxTotal: 10_000) }
        #expect(perEntry?.check == "size cap" && perEntry?.entry == "a")
        let total = #expect(throws: ArchiveError.self) { _ = try open(path, maxEntry: 600, maxTotal: 1199) }
        #expect(total?.check == "size cap" && total?.entry == "b")
        #expect(try open(path, maxEntry: 600, maxTotal: 1200).entries.count == 2)
    }

    @Test func aLyingDeclaredSizeIsStoppedWhileStreaming() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("liar.zip")
        try ZipWriter.write(path: path, entries: [(Array("bomb.csv".utf8), [UInt8](repeating: 0, count: 10 << 20))])
        var bytes = try folder.read("liar.zip")
        let record = try #require(ZipTestFiles.centralRecordOffset(bytes))
        ZipTestFiles.put32(100, into: &bytes, at: record + 24)  // uncompressed size
        try folder.write(bytes, to: "liar.zip")

        let archive = try open(path, maxEntry: 1000, maxTotal: 1000)
        #expect(archive.entries[0].uncompressedSize == 100)
        var received = 0
        let error = #expect(throws: ArchiveError.self) { try archive.read(archive.entries[0]) { received += $0.count } }
        #expect(error?.check == "zip size")
        #expect(received <= 100)
    }

    @Test(arguments: [Int64(0), 1, 21])
    func aTooShortFileIsNotAZip(length: Int64) throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = try folder.write([UInt8](repeating: 0x50, count: Int(length)), to: "short.zip")
        let error = #expect(throws: ArchiveError.self) { _ = try open(path) }
        #expect(error?.check == "zip structure")
        #expect(error?.reason.contains(length == 0 ? "empty" : "too short") == true)
    }

    @Test func aTextFileIsNotAZip() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = try folder.write(Array("<html><body>error: bill not ready</body></html>\n".utf8), to: "bill.zip")
        let error = #expect(throws: ArchiveError.self) { _ = try open(path) }
        #expect(error?.check == "zip structure")
        #expect(error?.reason.contains("no end of central directory record") == true)
    }

    @Test func aTruncatedArchiveIsRefused() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("cut.zip")
        try ZipWriter.write(path: path, entries: [(Array("a.csv".utf8), TestData.mixed(count: 10_000))])
        let bytes = try folder.read("cut.zip")
        try folder.write(Array(bytes.dropLast(10)), to: "cut.zip")
        let error = #expect(throws: ArchiveError.self) { _ = try open(path) }
        #expect(error?.check == "zip structure")
    }

    /// Patches one field of our own archive; the reader must refuse what it does not support.
    @Test(arguments: [
        ("entries", 0xFFFF as UInt32, "ZIP64 archives are not supported"),
        ("flags", 1, "encrypted"),
        ("method", 12, "compression method 12 is not supported"),
        ("disk", 1, "multi-disk"),
        ("compressed", 0xFFFF_FFFF, "ZIP64 archives are not supported"),
    ])
    func unsupportedFeaturesAreRefused(field: String, value: UInt32, why: String) throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("odd.zip")
        try ZipWriter.write(path: path, entries: [(Array("a.csv".utf8), [1, 2, 3])])
        var bytes = try folder.read("odd.zip")
        let central = try #require(ZipTestFiles.centralRecordOffset(bytes))
        let end = try #require(ZipTestFiles.endRecordOffset(bytes))
        switch field {
        case "entries":
            ZipTestFiles.put16(UInt16(value), into: &bytes, at: end + 8)
            ZipTestFiles.put16(UInt16(value), into: &bytes, at: end + 10)
        case "flags": ZipTestFiles.put16(UInt16(value), into: &bytes, at: central + 8)
        case "method": ZipTestFiles.put16(UInt16(value), into: &bytes, at: central + 10)
        case "disk": ZipTestFiles.put16(UInt16(value), into: &bytes, at: end + 4)
        default: ZipTestFiles.put32(value, into: &bytes, at: central + 20)
        }
        try folder.write(bytes, to: "odd.zip")
        let error = #expect(throws: ArchiveError.self) { _ = try open(path) }
        #expect(error?.check == "zip structure")
        #expect(error?.reason.contains(why) == true)
    }

    @Test func aLocalHeaderThatDisagreesWithTheDirectoryIsRefused() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("two-names.zip")
        try ZipWriter.write(path: path, entries: [(Array("a.csv".utf8), [1, 2, 3])])
        var bytes = try folder.read("two-names.zip")
        bytes[30] = UInt8(ascii: "b")  // the local header's copy of the name
        try folder.write(bytes, to: "two-names.zip")
        let archive = try open(path)
        let error = #expect(throws: ArchiveError.self) { try archive.read(archive.entries[0]) { _ in } }
        #expect(error?.check == "zip structure")
        #expect(error?.reason.contains("different file") == true)
    }

    @Test func duplicateNamesAreRefused() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("twice.zip")
        try ZipWriter.write(path: path, entries: [(Array("a.csv".utf8), [1]), (Array("a.csv".utf8), [2])])
        let error = #expect(throws: ArchiveError.self) { _ = try open(path) }
        #expect(error?.check == "entry name" && error?.reason.contains("twice") == true)
    }
}
