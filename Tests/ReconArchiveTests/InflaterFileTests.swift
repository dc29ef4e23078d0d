import Foundation
import ReconTestSupport
import Testing

@testable import ReconArchive

@Suite(.tags(.integration), .skippedWhenFast) struct InflaterFileTests {
    @Test(.enabled(if: ExternalTool.gzip != nil, "needs the gzip command"))
    func theSystemGzipInflatesToTheSameBytes() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let source = TestData.mixed(count: 3 << 20, seed: 7)
        let plain = try folder.write(source, to: "bill.txt")
        let status = try ExternalTool.shell("gzip -c -9 \"$1\" > \"$2\"", [plain, folder.file("bill.txt.gz")]).status
        #expect(status == 0)
        let written = try Inflater.inflateFile(
            at: folder.file("bill.txt.gz"), to: folder.file("out.txt"), format: .gzip, maxOutputBytes: 4 << 20)
        #expect(written == Int64(source.count))
        #expect(try folder.read("out.txt") == source)
    }

    @Test func aFailedInflateLeavesNoOutputFile() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let gzip = try Deflater.deflate(TestData.mixed(count: 300_000), format: .gzip)
        let input = try folder.write(Array(gzip.dropLast(3)), to: "cut.gz")
        let output = folder.file("out.txt")
        let error = #expect(throws: ArchiveError.self) {
            _ = try Inflater.inflateFile(at: input, to: output, format: .gzip, maxOutputBytes: 1 << 20)
        }
        #expect(error?.file == input)
        #expect(error?.reason.hasPrefix("truncated") == true)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func aMissingInputSaysWhichFile() throws {
        let error = #expect(throws: ArchiveError.self) {
            _ = try Inflater.inflateFile(
                at: "/tmp/recon-no-such-file.gz", to: "/tmp/recon-never-written", format: .gzip, maxOutputBytes: 1)
        }
        #expect(
            error?.description == "/tmp/recon-no-such-file.gz: file: cannot open for reading: No such file or directory"
        )
    }
}
