import ReconFuzzSupport
import ReconRecords

// The payment center's payments file, read as RecordImporter.importPayments reads it (without
// the database): CSVRecordReader, the header, PaymentsFile.record per row.
let file = PaymentsFile(channels: SyntheticFiles.channelRules)

FuzzMain.run(seeds: seeds) { bytes in
    ImportFuzz.check(bytes, checkHeader: PaymentsFile.checkHeader, parse: file.record).accepted
}

func seeds() throws -> [FuzzMain.Seed] {
    let payments = try SyntheticFiles.make(lines: 4, seed: 1).payments
    return [
        ("valid", payments.lines(40)),
        ("valid-bom-crlf", [0xEF, 0xBB, 0xBF] + payments.lines(10).replacing([10], with: [13, 10])),
        ("header-only", payments.lines(1)),
        ("trailing-blank-line", payments.lines(3) + [10]),
        ("empty", []),
    ]
}
