import ReconBills
import ReconFuzzSupport

// A bank file, streamed into BankCSVParser as BankCSVAdapter.parse does. The first byte picks the
// profile (its value modulo the number of profiles), the rest is the file: the default
// recon-bank-v1; a GBK, tab-separated, fen, preamble-skipping bank like the tests' ICBC; and one
// without header, quotes or trailer, columns by position, in UTC.
let profiles = makeProfiles()

FuzzMain.run(seeds: seeds) { bytes in
    guard let first = bytes.first else { return false }
    let profile = profiles[Int(first) % profiles.count]
    return BillFuzz.check(UnsafeRawBufferPointer(rebasing: bytes[1...])) {
        BankCSVParser(file: "bank", channel: "bank", billDate: SyntheticFiles.day, profile: profile)
    }.accepted
}

func makeProfiles() -> [BankCSVProfile] {
    do {
        let gbk = BankCSVProfile(
            columns: .init(
                txnID: .name("流水号"), amount: .name("金额"), time: .name("时间"), orderID: .name("订单号"),
                kind: .name("类型"), fee: .name("手续费")),
            encoding: .gbk, delimiter: 9, quote: nil, skipLines: 2, kindMap: ["消费": .payment, "退货": .refund],
            amountUnit: .fen, refundSign: .positive, feeSign: .chargedNegative,
            timeFormat: try BankCSVTimeFormat("%Y/%m/%d %H:%M:%S"), timeZone: try UTCOffset("+08:00"),
            trailer: try BankCSVTrailer(#"^合计\t(?<count>\d+)\t(?<sum>\d+)\t(?<fee>-?\d+)$"#))
        let plain = BankCSVProfile(
            columns: .init(txnID: .index(1), amount: .index(2), time: .index(0), status: .index(4)),
            quote: nil, commentPrefix: nil, header: false, timeFormat: try BankCSVTimeFormat("%Y-%m-%dT%H:%M:%S"),
            timeZone: .utc)
        return [.reconBankV1, gbk, plain]
    } catch {
        fatalError("a fuzz profile is invalid: \(error)")
    }
}

func seeds() throws -> [FuzzMain.Seed] {
    let v1 = try SyntheticFiles.make(lines: 8, seed: 1).bank
    let gbk = try GBK.encode(
        "工商银行 商户对账单\r\n商户：123456\r\n" + "流水号\t订单号\t类型\t金额\t手续费\t时间\r\n"
            + "B1\tR1\t消费\t5000\t-30\t2026/11/23 09:15:07\r\n" + "B2\tR1\t退货\t2000\t12\t2026/11/23 17:40:11\r\n"
            + "B3\tR3\t消费\t100\t0\t2026/11/24 01:30:00\r\n" + "合计\t3\t7100\t-18\r\n")
    let plain = Array(
        "\u{FEFF}2026-11-23T01:15:07,T1,50.00,ignored,OK\n2026-11-23T09:40:11+08:00,T2,-20.00,,OK\n".utf8)
    return [
        ("valid-v1", [0] + v1),
        ("valid-v1-quoted-fields", [0] + v1.replacing(Array("SUCCESS".utf8), with: Array("\"SUC,\"\"CESS\"".utf8))),
        ("v1-cut-before-trailer", [0] + v1.lines(5)),
        ("valid-gbk", [1] + gbk),
        ("valid-plain", [2] + plain),
        ("empty", [0]),
    ]
}
