public import ReconCore

/// The `业务明细(汇总).csv` entry (CHANNELS.md §1.4): the same `#` frame, a start marker with
/// 业务汇总列表, a header, one row per store and a `合计` row, whose counts and sums
/// `AlipayDetailsParser.check(against:)` compares with the details. Small (a row per store), so
/// it is parsed whole.
public struct AlipaySummary: Sendable, Equatable {
    public var file: String
    /// `#账号` as written, and its line.
    public var account: String?
    public var accountLine: Int?
    /// `#起始日期` and `终止日期` as written, and their line.
    public var rangeStart: String?
    public var rangeEnd: String?
    public var rangeLine: Int?
    /// The 合计 row's line.
    public var line: Int
    public var tradeCount: Int64
    public var refundCount: Int64
    public var orderAmountFen: Int64
    public var receivedFen: Int64
    /// 服务费 in Alipay's sign (negative when charged).
    public var serviceFeeFen: Int64

    static let names = (
        trades: "交易订单总笔数", refunds: "退款订单总笔数", amount: "订单金额（元）", received: "商家实收（元）", fee: "服务费（元）"
    )

    public static func parse(_ bytes: [UInt8], file: String) throws(BillError) -> AlipaySummary {
        func refuse(_ line: Int?, _ column: String?, _ check: String, _ reason: String) -> BillError {
            BillError(file: file, line: line, column: column, check: check, reason: reason)
        }
        let decoder: TextDecoder
        do { decoder = try TextDecoder(.gbk) } catch { throw refuse(nil, nil, "encoding", error.reason) }
        var preamble = AlipayPreamble()
        var started = false
        var header: [String: Int]?
        var total: AlipaySummary?
        var lines: [LineSplitter.Line] = []
        var splitter = LineSplitter()
        bytes.withUnsafeBytes { raw in try? splitter.feed(raw, into: &lines) }
        if let last = splitter.finish() { lines.append(last) }
        for line in lines {
            let trimmed = line.bytes.trimmedSpacesAndTabs()
            if trimmed.isEmpty { continue }
            let fields: [String]
            do {
                fields = try trimmed.fields(separatedBy: UInt8(ascii: ",")).map { field throws(TextCodingError) in
                    try decoder.decode(field.trimmedSpacesAndTabs())
                }
            } catch {
                throw refuse(line.number, nil, "encoding", error.reason)
            }
            let text = fields.joined(separator: ",")
            if text.hasPrefix("#") {
                if !started && text.contains(AlipayFrame.summaryMarker) && !text.contains(AlipayFrame.endWord) {
                    started = true
                } else if started && text.contains(AlipayFrame.summaryMarker + AlipayFrame.endWord) {
                    guard let total else {
                        throw refuse(line.number, "合计", "summary", "no 合计 row before the end marker")
                    }
                    return total
                } else if !started {
                    preamble.read(text, line: line.number)
                }
                continue
            }
            guard started else { throw refuse(line.number, nil, "frame", "a line before the 业务汇总列表 start marker") }
            guard let columns = header else {
                header = try readHeader(fields, line: line.number, refuse: refuse)
                continue
            }
            guard fields.first == "合计" else { continue }  // a store's row
            guard fields.count == columns.count else {
                throw refuse(
                    line.number, nil, "field count", "\(fields.count) fields where the header has \(columns.count)")
            }
            func value(_ name: String, count: Bool) throws(BillError) -> Int64 {
                let text = columns[name].map { fields[$0] } ?? ""
                if count, let number = Int64(text), number >= 0 { return number }
                if !count, let fen = try? Money.fen(fromExactlyTwoDecimals: text) { return fen }
                throw refuse(
                    line.number, name, "amount",
                    "\(name) \"\(text)\" is not \(count ? "a count" : "yuan with 2 decimals")")
            }
            total = AlipaySummary(
                file: file, account: preamble.account?.text, accountLine: preamble.account?.line,
                rangeStart: preamble.range?.start, rangeEnd: preamble.range?.end, rangeLine: preamble.range?.line,
                line: line.number,
                tradeCount: try value(Self.names.trades, count: true),
                refundCount: try value(Self.names.refunds, count: true),
                orderAmountFen: try value(Self.names.amount, count: false),
                receivedFen: try value(Self.names.received, count: false),
                serviceFeeFen: try value(Self.names.fee, count: false))
        }
        throw refuse(
            nil, nil, "frame",
            started ? "the end marker 业务汇总列表结束 is missing (the file may be cut)" : "no 业务汇总列表 start marker")
    }

    private static func readHeader(
        _ header: [String], line: Int, refuse: (Int?, String?, String, String) -> BillError
    ) throws(BillError) -> [String: Int] {
        var map: [String: Int] = [:]
        for (index, name) in header.enumerated() { map[name] = index }
        for name in [names.trades, names.refunds, names.amount, names.received, names.fee] where map[name] == nil {
            throw refuse(line, name, "header", "the summary header has no \(name) column")
        }
        return map
    }

    /// The `#` frame as the details parser reads it, to check against the account and day.
    var preamble: AlipayPreamble {
        var preamble = AlipayPreamble()
        if let account, let accountLine { preamble.account = (account, accountLine) }
        if let rangeStart, let rangeEnd, let rangeLine { preamble.range = (rangeStart, rangeEnd, rangeLine) }
        return preamble
    }
}
