public import ReconCore

/// WeChat Pay API v3 trade bills (CHANNELS.md §2.3–2.5): UTF-8 text (a BOM tolerated, CRLF or
/// LF), a header of column names, data rows whose every field starts with a backtick, then a
/// totals header and one totals line. Every row is checked as it streams; `finish` checks the
/// seven totals against the column sums. Fees keep their 5 decimals until the sum is checked,
/// and only then is each row's fee rounded to fen (the difference goes to the summary).
public struct WeChatBillParser: BillParser, Sendable {
    public let file: String
    public let channel: String
    public let billDate: LocalDay
    public let merchantID: String
    public private(set) var summary = BillSummary()

    private enum Stage: Sendable {
        case header
        case rows
        case totalsLine(names: [String], line: Int)
        case done(line: Int)
    }

    private var stage = Stage.header
    private var splitter = LineSplitter()
    private var columns: [String: Int] = [:]
    private var names: [String] = []
    private var columnCount = 0
    /// Positions for the per-row work, so that rows never hash a column name.
    private var row: WeChatRowColumns?
    /// Σ of each `WeChatBillLayout.Summed` column, in its own units (fen, or 1e-5 yuan for the fee).
    private var sums = [Int64](repeating: 0, count: WeChatBillLayout.Summed.allCases.count)
    private let window: DayWindow

    public init(file: String, channel: String, billDate: LocalDay, merchantID: String) {
        self.file = file
        self.channel = channel
        self.billDate = billDate
        self.merchantID = merchantID
        window = DayWindow(day: billDate, offsetSeconds: LocalTime.beijingOffsetSeconds)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (BillLine) throws -> Void) throws(BillError) {
        for line in try splitter.lines(in: bytes, file: file) { try handle(line, emit: emit) }
    }

    public mutating func finish(emit: (BillLine) throws -> Void) throws(BillError) {
        if let last = splitter.finish() { try handle(last, emit: emit) }
        switch stage {
        case .header: throw refuse(nil, nil, "frame", "the file is empty: no header line")
        case .rows: throw refuse(nil, nil, "totals", "the totals header and line are missing (the file may be cut)")
        case .totalsLine(_, let line):
            throw refuse(line, nil, "totals", "the totals line after the totals header is missing")
        case .done: break
        }
    }

    private mutating func handle(_ line: LineSplitter.Line, emit: (BillLine) throws -> Void) throws(BillError) {
        var bytes = line.bytes[...]
        if line.number == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let text: String
        do {
            text = try TextDecoder.utf8.decode(bytes)
        } catch {
            throw refuse(line.number, fieldName(in: bytes, at: error.byteOffset), "encoding", error.reason)
        }
        if text.isEmpty { return }
        switch stage {
        case .header:
            try readHeader(text, line: line.number)
        case .rows where text.hasPrefix("`"):
            let row = try parseRow(Self.backtickFields(text), line: line.number)
            summary.count(row)
            do { try emit(row) } catch { throw refuse(line.number, nil, "staging", "\(error)") }
        case .rows:
            let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard names.first == "总交易单数" else {
                throw refuse(
                    line.number, nil, "frame", "the line is neither a data row (starting with `) nor the totals header")
            }
            for name in names where WeChatBillLayout.totals[name] == nil {
                throw refuse(line.number, name, "totals", "\(name) is not a known total")
            }
            stage = .totalsLine(names: names, line: line.number)
        case .totalsLine(let names, _):
            guard text.hasPrefix("`") else {
                throw refuse(
                    line.number, nil, "totals", "the totals line must follow the totals header, with backticks")
            }
            try checkTotals(Self.backtickFields(text), names: names, line: line.number)
            stage = .done(line: line.number)
        case .done(let totals):
            throw refuse(line.number, nil, "frame", "a line follows the totals line (line \(totals))")
        }
    }

    private mutating func readHeader(_ text: String, line: Int) throws(BillError) {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for (index, name) in names.enumerated() {
            guard WeChatBillLayout.known.contains(name) else {
                let hint = name.hasPrefix("`") ? " (a data row where the header should be)" : ""
                throw refuse(line, name, "header", "\(name) is not a known WeChat bill column\(hint)")
            }
            guard columns.updateValue(index, forKey: name) == nil else {
                throw refuse(line, name, "header", "the header has \(name) twice")
            }
        }
        for name in WeChatBillLayout.required where columns[name] == nil {
            throw refuse(line, name, "header", "the header has no \(name) column")
        }
        columnCount = names.count
        self.names = names
        row = WeChatRowColumns(columns)
        stage = .rows
    }

    /// The column holding byte `offset` of a data row, counted as `backtickFields` splits (`` ,` ``
    /// is ASCII, so it never sits inside a character); nil outside the rows.
    private func fieldName(in bytes: ArraySlice<UInt8>, at offset: Int) -> String? {
        guard case .rows = stage, bytes.first == UInt8(ascii: "`") else { return nil }
        let end = bytes.startIndex + min(offset, bytes.count)
        var index = 0
        var position = bytes.startIndex + 1
        while position + 1 < end {
            if bytes[position] == UInt8(ascii: ","), bytes[position + 1] == UInt8(ascii: "`") {
                index += 1
                position += 2
            } else {
                position += 1
            }
        }
        return names.indices.contains(index) ? names[index] : nil
    }

    /// `` `a,`b,` `` → `["a", "b", ""]`: drop the first backtick, split on `` ,` `` (which survives
    /// commas inside 商品名称 and 商户数据包).
    static func backtickFields(_ text: String) -> [String] {
        var text = text
        // In place: a native String's UTF-8 is contiguous, no copy of the line needed.
        return text.withUTF8 { backtickFields(utf8: $0) }
    }

    private static func backtickFields(utf8 bytes: UnsafeBufferPointer<UInt8>) -> [String] {
        var fields: [String] = []
        fields.reserveCapacity(32)
        var start = 1
        var index = 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: ","), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "`") {
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[min(start, bytes.count)...]), as: UTF8.self))
        return fields
    }

    private mutating func parseRow(_ fields: [String], line: Int) throws(BillError) -> BillLine {
        guard fields.count == columnCount, let row else {
            throw refuse(line, nil, "field count", "\(fields.count) fields where the header has \(columnCount)")
        }
        func value(_ index: Int?) -> String? {
            index.flatMap { fields[$0].isEmpty ? nil : fields[$0] }
        }
        func required(_ index: Int) throws(BillError) -> String {
            guard let text = value(index) else { throw refuse(line, names[index], "field", "\(names[index]) is empty") }
            return text
        }
        typealias Summed = WeChatBillLayout.Summed
        var values = [Int64](repeating: 0, count: Summed.allCases.count)
        for column in Summed.allCases {
            guard let index = row.summed[column.rawValue], let text = value(index) else { continue }
            do {
                values[column.rawValue] = try Money.scaled(text, decimals: column.decimals)
            } catch {
                throw refuse(line, names[index], "amount", error.description)
            }
        }
        var flags: [String] = []
        let merchant = try required(row.merchant)
        guard merchant == merchantID else {
            throw refuse(line, "商户号", "identity", "商户号 \(merchant) is not the configured merchant \(merchantID)")
        }
        let currency = try required(row.currency)
        guard currency == "CNY" else { throw refuse(line, "货币种类", "currency", "\(currency) is not CNY") }
        let status = try required(row.status)
        let kind: BillLine.Kind
        let signed: Int64
        switch status {
        case "SUCCESS":
            kind = .payment
            signed = values[Summed.ordered.rawValue]
            guard signed >= 0 else { throw refuse(line, "订单金额", "sign", "a payment of \(Money.yuanText(fen: signed))") }
        case "REFUND", "REVOKED":
            kind = .refund
            guard row.summed[Summed.requested.rawValue] != nil else {
                throw refuse(line, "交易状态", "kind", "a \(status) row in a bill without the 申请退款金额 column")
            }
            let requested = values[Summed.requested.rawValue]
            guard requested >= 0 else {
                throw refuse(
                    line, "申请退款金额", "sign", "申请退款金额 is written positive, found \(Money.yuanText(fen: requested))")
            }
            signed = -requested
            if status == "REVOKED" {
                // Unconfirmed (§2.3): a cancelled micropay, taken as a refund and shown for review.
                flags.append("交易状态 REVOKED (a cancelled micropay) was taken as a refund; unconfirmed")
            } else {
                for column in [Summed.settled, .ordered] where values[column.rawValue] != 0 {
                    throw refuse(
                        line, column.name, "kind",
                        "a REFUND row has \(column.name) \(Money.yuanText(fen: values[column.rawValue])) where refund rows carry 0.00"
                    )
                }
            }
            if let refundStatus = value(row.refundStatus), refundStatus != "SUCCESS" {
                flags.append("退款状态 \(refundStatus): the refund is not final")
            }
        default:
            throw refuse(line, "交易状态", "kind", "交易状态 \(status) is not SUCCESS, REFUND or REVOKED")
        }
        for index in sums.indices { sums[index] &+= values[index] }
        let feeUnits = values[Summed.fee.rawValue]
        let feeFen = Money.roundToFen(feeUnits, decimals: 5)
        // Wrapping on purpose: the difference is at most 500 units, so it comes out exact even where
        // feeFen × 1000 passes Int64 (a fee near the limit rounds up past it, which used to trap).
        summary.feeRoundingUnits &+= feeUnits &- feeFen &* 1000
        // A REFUND bill says when the refund succeeded; the ALL bill's 交易时间 already is that time.
        let timeIndex =
            kind == .refund ? row.refundSucceeded.flatMap { value($0) == nil ? nil : $0 } ?? row.time : row.time
        let timeText = try required(timeIndex)
        guard let local = LocalTime.parse(timeText) else {
            throw refuse(line, names[timeIndex], "time", "\(timeText) is not yyyy-MM-dd HH:mm:ss")
        }
        let microseconds = (local - LocalTime.beijingOffsetSeconds) * 1_000_000
        if let outside = window.flag(microseconds, "\(names[timeIndex]) \(timeText)") { flags.append(outside) }
        let refundID = value(row.refundID).flatMap { $0 == "0" ? nil : $0 }
        let transactionID = try required(row.txnID)
        // A refund row repeats its payment's 微信订单号.
        return BillLine(
            channel: channel, billDate: billDate, channelTransactionID: transactionID,
            originalTransactionID: kind == .refund ? transactionID : nil, merchantOrderID: value(row.orderID),
            refundID: kind == .refund ? refundID : nil, kind: kind,
            amountFen: signed,
            feeFen: feeFen, channelStatus: status, timeMicroseconds: microseconds, lineNumber: line,
            flag: flags.isEmpty ? nil : flags.joined(separator: "; "))
    }

    private mutating func checkTotals(_ fields: [String], names: [String], line: Int) throws(BillError) {
        guard fields.count == names.count else {
            throw refuse(line, nil, "totals", "\(fields.count) totals where the totals header has \(names.count)")
        }
        var declared: [String] = []
        for (name, text) in zip(names, fields) {
            declared.append("\(name) \(text)")
            guard let column = WeChatBillLayout.totals[name] ?? nil else {
                guard let count = Int64(text), count == summary.lines else {
                    throw refuse(line, name, "totals", "\(name) says \(text) rows, the file has \(summary.lines)")
                        .contradictingTotals
                }
                continue
            }
            guard columns[column] != nil, let summed = WeChatBillLayout.Summed(name: column) else {
                throw refuse(line, name, "totals", "\(name) totals \(column), which this bill has no column for")
            }
            let decimals = summed.decimals
            let value: Int64
            do { value = try Money.scaled(text, decimals: decimals) } catch {
                throw refuse(line, name, "totals", error.description)
            }
            let sum = sums[summed.rawValue]
            guard value == sum else {
                throw refuse(
                    line, name, "totals",
                    "\(name) is \(text), the \(column) column adds up to \(Money.text(units: sum, decimals: decimals))"
                ).contradictingTotals
            }
        }
        summary.declaredTotals = declared.joined(separator: ", ")
    }

    private func refuse(_ line: Int?, _ column: String?, _ check: String, _ reason: String) -> BillError {
        BillError(file: file, line: line, column: column, check: check, reason: reason)
    }
}
