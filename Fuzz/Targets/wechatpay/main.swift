import ReconBills
import ReconFuzzSupport

// WeChat Pay's bill, gunzipped, streamed into WeChatBillParser as WeChatPayAdapter.parse does.
FuzzMain.run(seeds: seeds) { bytes in
    BillFuzz.check(bytes) {
        WeChatBillParser(
            file: "bill", channel: "wechatpay", billDate: SyntheticFiles.day, merchantID: SyntheticFiles.wechatMerchant)
    }.accepted
}

func seeds() throws -> [FuzzMain.Seed] {
    let bill = try SyntheticFiles.make(lines: 8, seed: 1).wechatpay
    let lines = bill.split(separator: 10, omittingEmptySubsequences: false).count
    return [
        ("valid", bill),
        ("valid-bom-lf", [0xEF, 0xBB, 0xBF] + bill.replacing([13, 10], with: [10])),
        ("cut-before-totals", bill.lines(lines - 3)),
        ("header-only", bill.lines(1)),
        ("empty", []),
    ]
}
