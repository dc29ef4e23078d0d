import ReconFuzzSupport
import ReconRecords

// The virtual-account ledger file, read as RecordImporter.importLedger reads it (without the
// database): CSVRecordReader, the header, LedgerFile.record per row.
FuzzMain.run(seeds: seeds) { bytes in
    ImportFuzz.check(bytes, checkHeader: LedgerFile.checkHeader, parse: LedgerFile.record).accepted
}

func seeds() throws -> [FuzzMain.Seed] {
    let ledger = try SyntheticFiles.make(lines: 4, seed: 1).ledger
    return [
        ("valid", ledger.lines(40)),
        ("valid-bom-crlf", [0xEF, 0xBB, 0xBF] + ledger.lines(10).replacing([10], with: [13, 10])),
        ("header-only", ledger.lines(1)),
        ("no-final-line-break", Array(ledger.lines(3).dropLast())),
        ("empty", []),
    ]
}
