import ReconBills
import Testing

@testable import ReconConfig

/// A `[[channel]]` table's bank profile keys, read from TOML: every bad value is refused naming
/// the file, line and key. (How a profile parses is ReconBillsTests' BankCSVProfileTests.)
@Suite struct BankCSVProfileReadingTests {
    func profile(_ toml: String, channel: String = "icbc") throws -> BankCSVProfile {
        let root = try TOMLTableReader(parsing: toml, file: "jobs/bank.toml")
        let table = try root.table("channel").table(channel)
        let profile = try BankCSVProfile(reading: table)
        _ = try table.optionalString("url_template")  // the transport's key, read by the fetcher
        try root.finish()
        return profile
    }

    @Test(
        arguments: [
            (
                "columns = { txn_id = \"a\", amount = \"b\", time = \"c\", txn_idd = \"d\" }", 2,
                "unknown key `channel.x.columns.txn_idd`"
            ),
            ("columns = { amount = \"b\", time = \"c\" }", 2, "missing key `channel.x.columns.txn_id`"),
            ("delimiter = \"::\"", 3, "`channel.x.delimiter` must be one of"),
            ("encoding = \"latin1\"", 3, "`channel.x.encoding` must be utf-8, gbk or gb18030"),
            ("encoding = \"gbk\"\ndelimiter = \"|\"", 4, "`channel.x.delimiter` \"|\" cannot be used with GBK"),
            ("time_zone = \"Europe/Berlin\"", 3, "`channel.x.time_zone` \"Europe/Berlin\" is not supported"),
            ("time_format = \"%d.%m.%y\"", 3, "`channel.x.time_format` %y is not supported"),
            (
                "trailer = '^#T,(?<total>\\d+)$'", 3,
                "`channel.x.trailer` the group (?<total>…) is not one of count, sum, fee"
            ),
            (
                "trailer = '^#T,(?<count>\\d+$'", 3,
                "`channel.x.trailer` \"^#T,(?<count>\\d+$\" is not a valid regular expression"
            ),
            ("refund_sign = \"positive\"", 3, "`channel.x.refund_sign` positive needs a kind column"),
            ("amount_unit = \"cents\"", 3, "`channel.x.amount_unit` must be one of yuan, fen, found \"cents\""),
            ("kind_map = { \"消费\" = \"sale\" }", 3, "`channel.x.kind_map.\"消费\"` must be \"payment\" or \"refund\""),
            ("skip_lines = -1", 3, "`channel.x.skip_lines` must be between 0 and 1000"),
        ] as [(String, Int, String)])
    func badProfileValuesAreRefusedNamingTheKey(setting: String, line: Int, message: String) {
        var toml = "[channel.x]\n"
        if !setting.hasPrefix("columns") { toml += "columns = { txn_id = \"a\", amount = \"b\", time = \"c\" }\n" }
        toml += setting + "\n"
        let error = readerError { _ = try profile(toml, channel: "x") }
        #expect(error?.file == "jobs/bank.toml")
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }
}
