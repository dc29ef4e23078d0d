import Foundation
import ReconTestSupport
import Testing

@testable import ReconArchive

/// Archives made by another tool (Python's zipfile) read with ZipArchive.
@Suite(.tags(.integration), .skippedWhenFast) struct ZipInteropTests {
    /// Python writing to a pipe cannot seek back, so it uses data descriptors (flag bit 3).
    @Test(.enabled(if: ExternalTool.python3 != nil, "needs python3"), arguments: [false, true])
    func weReadAnArchiveMadeByPython(throughAPipe: Bool) throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.file("python.zip")
        let script = """
            import sys, zipfile
            out = sys.stdout.buffer if sys.argv[1] == 'pipe' else open(sys.argv[2], 'wb')
            with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
                with z.open('details.csv', 'w') as f:
                    for i in range(20000):
                        f.write(b'2026-11-23 09:15:07,B%09d,payment,50.00\\r\\n' % i)
                z.writestr('stored.txt', b'plain', compress_type=zipfile.ZIP_STORED)
                z.writestr('dir/', b'')
            """
        let command =
            throughAPipe ? "python3 -c \"$1\" pipe | cat > \"$2\"" : "python3 -c \"$1\" file \"$2\""
        #expect(try ExternalTool.shell(command, [script, path]).status == 0)

        let archive = try ZipArchive(path: path, maxEntryBytes: 10 << 20, maxTotalBytes: 10 << 20)
        #expect(archive.entries.map(\.name) == ["details.csv", "stored.txt", "dir/"])
        #expect((archive.entries[0].flags & (1 << 3) != 0) == throughAPipe)
        var expected: [UInt8] = []
        for i in 0..<20000 { expected += Array(String(format: "2026-11-23 09:15:07,B%09d,payment,50.00\r\n", i).utf8) }
        var details: [UInt8] = []
        try archive.read(archive.entries[0]) { details.append(contentsOf: $0) }
        #expect(details == expected)
        var stored: [UInt8] = []
        try archive.read(archive.entries[1]) { stored.append(contentsOf: $0) }
        #expect(stored == Array("plain".utf8))
        #expect(archive.entries[2].isDirectory)
    }
}
