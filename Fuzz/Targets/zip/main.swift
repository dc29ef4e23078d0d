import CReconFuzzer
import Foundation
import ReconArchive
import ReconBills
import ReconFuzzSupport

// A ZIP archive as the Alipay, UnionPay and bank adapters open theirs: ZipArchive over a file (a
// memfd here, rewritten for every input), caps on the declared sizes, GBK names, then every entry
// read through, its CRC-32 and size checked. Every other entry's reader refuses its first chunk, as a
// parser refusing a bill does, which must still leave the archive's own checks to run.
let memfd = recon_fuzz_memfd()
guard memfd >= 0 else { fatalError("memfd_create failed: errno \(errno)") }
let path = "/proc/self/fd/\(memfd)"

struct Refused: Error {}

FuzzMain.run(seeds: seeds) { bytes in
    guard ftruncate(memfd, 0) == 0, pwrite(memfd, bytes.baseAddress, bytes.count, 0) == bytes.count else {
        fatalError("cannot write the input to the memfd: errno \(errno)")
    }
    guard
        let archive = try? ZipArchive(
            path: path, maxEntryBytes: 1 << 20, maxTotalBytes: 4 << 20, legacyNames: { try? GBK.decode($0) })
    else { return false }
    var accepted = true
    for (index, entry) in archive.entries.enumerated() {
        var delivered: Int64 = 0
        do {
            try archive.read(entry) { chunk in
                delivered += Int64(chunk.count)
                if index % 2 == 1 { throw Refused() }
            }
            guard delivered == entry.uncompressedSize else {
                fatalError(
                    "read \(entry.name) delivered \(delivered) bytes of \(entry.uncompressedSize) without an error")
            }
        } catch {
            accepted = accepted && error is Refused
        }
    }
    return accepted
}

func seeds() throws -> [FuzzMain.Seed] {
    let files = try SyntheticFiles.make(lines: 4, seed: 1)
    let details = try GBK.encode("20880000000000000156_20261123_业务明细.csv")
    let summary = try GBK.encode("20880000000000000156_20261123_业务明细(汇总).csv")
    func zip(_ entries: [(nameBytes: [UInt8], data: [UInt8])], method: ZipWriter.Method) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "recon-fuzz-seed-\(getpid()).zip"
        defer { unlink(path) }
        try ZipWriter.write(path: path, entries: entries, method: method)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
    return [
        (
            "valid-alipay-deflate",
            try zip([(details, files.alipayDetails), (summary, files.alipaySummary)], method: .deflate)
        ),
        (
            "valid-alipay-stored",
            try zip([(details, files.alipayDetails), (summary, files.alipaySummary)], method: .stored)
        ),
        (
            "valid-unionpay-deflate",
            try zip([(Array("ZM_802310048993424_20261123".utf8), files.unionpay)], method: .deflate)
        ),
        (
            "valid-directory-and-empty-entry",
            try zip([(Array("bills/".utf8), []), (Array("bills/a.csv".utf8), [])], method: .stored)
        ),
        ("valid-empty-archive", try zip([], method: .stored)),
    ]
}
