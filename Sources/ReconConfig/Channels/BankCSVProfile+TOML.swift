public import ReconBills
public import ReconCore

extension BankCSVProfile {
    /// Reads the profile keys of a channel's table in `jobs/*.toml`. The transport keys and the
    /// table's unknown-key check are the caller's (it calls `finish()`); `columns` and `kind_map`
    /// are checked here, so a misspelt `columns.txn_idd` is refused with its line.
    public init(reading table: TOMLTableReader) throws(TOMLError) {
        func problem(_ problem: Problem) -> TOMLError {
            table.error(at: problem.key, "`\(table.keyPath(problem.key))` \(problem.message)")
        }
        let header = try table.optionalBool("header") ?? true
        let columns = try Self.readColumns(try table.table("columns"), header: header)
        self.init(columns: columns, header: header)
        if let text = try table.optionalString("encoding") {
            let spelled = text.lowercased() == "utf8" ? "utf-8" : text.lowercased()
            guard let encoding = TextEncoding(rawValue: spelled) else {
                throw table.error(
                    at: "encoding", "`\(table.keyPath("encoding"))` must be utf-8, gbk or gb18030, found \"\(text)\"")
            }
            self.encoding = encoding
        }
        if let text = try table.optionalString("delimiter") {
            // `"\t"` in a TOML basic string is a TAB; `'\t'` (a literal string) is taken to mean one too.
            let byte = text == "\\t" ? 9 : text.utf8.count == 1 ? text.utf8.first : nil
            guard let byte, Self.delimiters.contains(byte) else {
                throw table.error(
                    at: "delimiter",
                    "`\(table.keyPath("delimiter"))` must be one of \",\", \"\\t\", \";\", \"|\", found \"\(text)\"")
            }
            delimiter = byte
        }
        if let text = try table.optionalString("quote") {
            guard text.utf8.count <= 1 else {
                throw table.error(
                    at: "quote", "`\(table.keyPath("quote"))` must be one character, or \"\" for no quoting")
            }
            quote = text.utf8.first
        }
        skipLines = try table.optionalInt("skip_lines", in: 0...1000) ?? 0
        if let text = try table.optionalString("comment_prefix") { commentPrefix = text.isEmpty ? nil : text }
        if let map = try table.optionalTable("kind_map") { kindMap = try Self.readKindMap(map) }
        amountUnit = try Self.choice(table, "amount_unit", default: .yuan)
        refundSign = try Self.choice(table, "refund_sign", default: .negative)
        feeSign = try Self.choice(table, "fee_sign", default: .chargedPositive)
        do {
            if let text = try table.optionalString("time_format") { timeFormat = try BankCSVTimeFormat(text) }
            if let text = try table.optionalString("time_zone") { timeZone = try UTCOffset(text) }
            // Absent: the §4 default; `trailer = ""`: the file has none.
            let pattern = try table.optionalString("trailer") ?? Self.defaultTrailerPattern
            trailer = pattern.isEmpty ? nil : try BankCSVTrailer(pattern)
        } catch let error as Problem {
            throw problem(error)
        } catch let error as TOMLError {
            throw error
        } catch {
            throw table.error(at: "", "\(error)")
        }
        if let found = self.problem() { throw problem(found) }
    }

    private static func readColumns(_ table: TOMLTableReader, header: Bool) throws(TOMLError) -> Columns {
        func column(_ key: String) throws(TOMLError) -> Column? {
            guard let node = table.node(key) else { return nil }
            switch node.value {
            case .string(let name) where header && !name.isEmpty:
                return .name(name)
            case .integer(let index) where index >= 0 && index < 10_000:
                return .index(Int(index))
            default:
                let wanted =
                    header ? "a header name or a 0-based column index" : "a 0-based column index (header = false)"
                throw table.error(at: key, "`\(table.keyPath(key))` must be \(wanted), found \(node.value.typeName)")
            }
        }
        func required(_ key: String) throws(TOMLError) -> Column {
            guard let found = try column(key) else {
                throw table.error(
                    at: key, "missing key `\(table.keyPath(key))`: txn_id, amount and time must be mapped")
            }
            return found
        }
        let columns = Columns(
            txnID: try required("txn_id"), amount: try required("amount"), time: try required("time"),
            orderID: try column("order_id"), refundID: try column("refund_id"), kind: try column("kind"),
            fee: try column("fee"), status: try column("status"), currency: try column("currency"))
        try table.finish()
        return columns
    }

    private static func readKindMap(_ table: TOMLTableReader) throws(TOMLError) -> [String: BillLine.Kind] {
        var map: [String: BillLine.Kind] = [:]
        for key in table.table.keys {
            let text = try table.string(key)
            guard let kind = BillLine.Kind(rawValue: text) else {
                throw table.error(
                    at: key, "`\(table.keyPath(key))` must be \"payment\" or \"refund\", found \"\(text)\"")
            }
            map[key] = kind
        }
        try table.finish()
        return map
    }

    private static func choice<Value: RawRepresentable & CaseIterable>(
        _ table: TOMLTableReader, _ key: String, default value: Value
    ) throws(TOMLError) -> Value where Value.RawValue == String {
        guard let text = try table.optionalString(key) else { return value }
        guard let chosen = Value(rawValue: text) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw table.error(at: key, "`\(table.keyPath(key))` must be one of \(allowed), found \"\(text)\"")
        }
        return chosen
    }
}
