import ReconBills
import ReconFuzzSupport

// UnionPay's ZM file (the ZIP's one `ZM_` entry), streamed into UnionPayZMParser as
// UnionPayAdapter.parse does.
FuzzMain.run(seeds: seeds) { bytes in
    BillFuzz.check(bytes) {
        UnionPayZMParser(
            file: "zm", channel: "unionpay", billDate: SyntheticFiles.day, merchantID: SyntheticFiles.unionPayMerchant)
    }.accepted
}

func seeds() throws -> [FuzzMain.Seed] {
    let bill = try SyntheticFiles.make(lines: 4, seed: 1).unionpay
    let record = bill.lines(1)
    return [
        ("valid", bill),
        ("one-record", record),
        ("one-record-no-line-break", Array(record.prefix { $0 != 13 && $0 != 10 })),
        ("record-cut-short", Array(record.prefix(300))),
        ("empty", []),
    ]
}
