import Foundation
import ReconTestSupport
import Testing

@testable import ReconArchive

/// ZipWriter's archives checked by other tools: Python's zipfile and Info-ZIP's unzip.
@Suite(.tags(.integration), .skippedWhenFast) struct ZipWriterTests {
    static let entries: [(nameBytes: [UInt8], data: [UInt8])] = [
        (ZipTestFiles.gbkName, TestData.mixed(count: 300_000, seed: 11)),
        (Array("2088_20261123_summary.csv".utf8), Array("#合计\r\n".utf8)),
        (Array("folder/empty.txt".utf8), []),
    ]

    @Test(.enabled(if: ExternalTool.python3 != nil, "needs python3"))
    func pythonReadsOurArchive() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("ours.zip")
        try ZipWriter.write(path: path, entries: ZipWriterTests.entries)
        // Names without the UTF-8 flag come back from zipfile as cp437; encoding them again gives the raw bytes.
        let script = """
            import sys, zipfile, zlib
            with zipfile.ZipFile(sys.argv[1]) as z:
                assert z.testzip() is None
                for i in z.infolist():
                    raw = i.filename.encode('utf-8' if i.flag_bits & 0x800 else 'cp437')
                    data = z.read(i)
                    print(raw.hex(), len(data), '%08x' % zlib.crc32(data))
            """
        let result = try ExternalTool.shell("python3 -c \"$1\" \"$2\"", [script, path])
        #expect(result.status == 0)
        let expected = ZipWriterTests.entries.map { entry in
            let hex = entry.nameBytes.map { String(format: "%02x", $0) }.joined()
            return "\(hex) \(entry.data.count) \(String(format: "%08x", CRC32.checksum(entry.data)))"
        }
        #expect(result.output.split(separator: "\n").map(String.init) == expected)
    }

    @Test(.enabled(if: ExternalTool.unzip != nil, "needs unzip"))
    func unzipTestsOurArchiveClean() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("ours.zip")
        try ZipWriter.write(path: path, entries: ZipWriterTests.entries)
        #expect(try ExternalTool.shell("unzip -tq \"$1\" > /dev/null", [path]).status == 0)
        // And the check is real: a damaged archive fails it.
        var bytes = try folder.read("ours.zip")
        bytes[30 + ZipTestFiles.gbkName.count + 100] ^= 0x55
        try folder.write(bytes, to: "ours.zip")
        #expect(try ExternalTool.shell("unzip -tq \"$1\" > /dev/null 2>&1", [path]).status != 0)
    }
}
