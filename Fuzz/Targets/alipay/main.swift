import ReconBills
import ReconFuzzSupport

// Alipay's bill, as AlipayAdapter.parse reads the two entries of its ZIP: the `(汇总).csv` summary
// parsed whole, the `_业务明细.csv` details streamed, finished and checked against the summary.
// The input is the summary, a NUL byte, then the details (GBK text has no NUL byte); with no NUL
// it is all details, checked without a summary.
FuzzMain.run(seeds: seeds) { bytes in
    let split = bytes.firstIndex(of: 0)
    let summary = split.flatMap { try? AlipaySummary.parse(Array(bytes[..<$0]), file: "summary") }
    let details = split.map { UnsafeRawBufferPointer(rebasing: bytes[($0 + 1)...]) } ?? bytes
    let outcome = BillFuzz.check(details, make: parser) { parser throws(BillError) in
        if let summary { try parser.check(against: summary) }
    }
    return summary != nil && outcome.accepted
}

func parser() -> AlipayDetailsParser {
    AlipayDetailsParser(
        file: "details", channel: "alipay", billDate: SyntheticFiles.day, accountID: SyntheticFiles.alipayAccount)
}

func seeds() throws -> [FuzzMain.Seed] {
    let files = try SyntheticFiles.make(lines: 8, seed: 1)
    func both(_ summary: [UInt8], _ details: [UInt8]) -> [UInt8] { summary + [0] + details }
    let lf = { (bytes: [UInt8]) in bytes.replacing([13, 10], with: [10]) }
    return [
        ("valid", both(files.alipaySummary, files.alipayDetails)),
        ("valid-lf", both(lf(files.alipaySummary), lf(files.alipayDetails))),
        ("details-only", files.alipayDetails),
        ("summary-only", files.alipaySummary + [0]),
        ("cut-before-end-marker", both(files.alipaySummary, files.alipayDetails.lines(12))),
        ("empty", []),
    ]
}
