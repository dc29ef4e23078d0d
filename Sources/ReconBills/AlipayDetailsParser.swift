public import ReconCore

/// Alipay's daily trade bill, the `_业务明细.csv` entry of the ZIP (CHANNELS.md §1.3): GBK text,
/// CRLF or LF, a `#` preamble naming the account and the day, a start marker, the 25-column
/// header, the rows, an end marker and two footers whose counts and 商家实收 sums are checked
/// at `finish`. `check(against:)` then compares with the `(汇总).csv` entry.
public struct AlipayDetailsParser: BillParser, Sendable {
    public let file: String
    public let channel: String
    public let billDate: LocalDay
    /// The partner id followed by `0156`, as `#账号` writes it.
    public let accountID: String
    public private(set) var summary = BillSummary()

    private enum Stage: Sendable {
        case preamble, header, rows, footers
    }

    /// Counts and sums per 业务类型, for the footers and the summary file.
    struct Totals: Sendable {
        var count: Int64 = 0
        var orderAmount: Int64 = 0
        var received: Int64 = 0
        var serviceFee: Int64 = 0

        mutating func add(amount: Int64, received: Int64, serviceFee: Int64) {
            count += 1
            orderAmount &+= amount
            self.received &+= received
            self.serviceFee &+= serviceFee
        }
    }

    private var stage = Stage.preamble
    private var preamble = AlipayPreamble()
    private var splitter = LineSplitter()
    private var paymentTotals = Totals()
    private var refundTotals = Totals()
    private var footers: [BillLine.Kind: (count: Int64, fen: Int64, text: String, line: Int)] = [:]
    private let decoder: Result<TextDecoder, BillError>
    private let window: DayWindow

    public init(file: String, channel: String, billDate: LocalDay, accountID: String) {
        self.file = file
        self.channel = channel
        self.billDate = billDate
        self.accountID = accountID
        window = DayWindow(day: billDate, offsetSeconds: LocalTime.beijingOffsetSeconds)
        do {
            decoder = .success(try TextDecoder(.gbk))
        } catch {
            decoder = .failure(BillError(file: file, line: nil, column: nil, check: "encoding", reason: error.reason))
        }
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (BillLine) throws -> Void) throws(BillError) {
        for line in try splitter.lines(in: bytes, file: file) { try handle(line, emit: emit) }
    }

    public mutating func finish(emit: (BillLine) throws -> Void) throws(BillError) {
        if let last = splitter.finish() { try handle(last, emit: emit) }
        switch stage {
        case .preamble:
            throw refuse(nil, nil, "frame", "no start marker (a # line with 业务明细列表): not an Alipay details file")
        case .header, .rows: throw refuse(nil, nil, "frame", "the end marker 业务明细列表结束 is missing (the file may be cut)")
        case .footers: break
        }
        var declared: [String] = []
        for (kind, name) in [(BillLine.Kind.payment, "#交易合计"), (.refund, "#退款合计")] {
            guard let footer = footers[kind] else {
                throw refuse(nil, name, "footer", "the \(name) footer is missing (the file may be cut)")
            }
            declared.append(footer.text)
            let parsed = kind == .payment ? paymentTotals : refundTotals
            guard footer.count == parsed.count else {
                throw refuse(
                    footer.line, name, "footer", "\(name) says \(footer.count) rows, the file has \(parsed.count)"
                ).contradictingTotals
            }
            // Older bills total 交易金额 (订单金额) rather than 商家实收.
            let older = !footer.text.contains("商家实收") && footer.fen == parsed.orderAmount
            guard footer.fen == parsed.received || older else {
                throw refuse(
                    footer.line, name, "footer",
                    "\(name) says \(Money.yuanText(fen: footer.fen)), the 商家实收 column adds up to \(Money.yuanText(fen: parsed.received))"
                ).contradictingTotals
            }
        }
        summary.declaredTotals = declared.joined(separator: " ")
    }

    /// Compares this bill, once finished, with the `(汇总).csv` entry: the same account and day,
    /// and its 合计 row's counts and sums. Those amounts are taken to be net of refunds (Σ of
    /// every row; unconfirmed, §1.4), its 服务费 in Alipay's sign.
    public func check(against other: AlipaySummary) throws(BillError) {
        func refuse(_ column: String, _ reason: String) -> BillError {
            BillError(file: other.file, line: other.line, column: column, check: "summary", reason: reason)
        }
        try other.preamble.check(accountID: accountID, day: billDate, file: other.file, markerLine: other.line)
        let payments = paymentTotals
        let refunds = refundTotals
        let counts: [(String, Int64, Int64)] = [
            ("交易订单总笔数", other.tradeCount, payments.count), ("退款订单总笔数", other.refundCount, refunds.count),
        ]
        for (column, declared, parsed) in counts where declared != parsed {
            throw refuse(column, "\(column) is \(declared), \(file) has \(parsed)").contradictingTotals
        }
        let sums: [(String, Int64, Int64, Int64)] = [
            ("订单金额（元）", other.orderAmountFen, payments.orderAmount, refunds.orderAmount),
            ("商家实收（元）", other.receivedFen, payments.received, refunds.received),
            ("服务费（元）", other.serviceFeeFen, payments.serviceFee, refunds.serviceFee),
        ]
        for (column, declared, paid, refunded) in sums {
            // Rows near Int64's limit can add up past it (that used to trap): a sum no declared
            // amount can equal, so the bill contradicts its totals.
            let (parsed, overflow) = paid.addingReportingOverflow(refunded)
            guard !overflow else {
                throw refuse(
                    column,
                    "\(column) is \(Money.yuanText(fen: declared)), \(file) adds up beyond ±\(Money.yuanText(fen: .max))"
                ).contradictingTotals
            }
            guard declared == parsed else {
                throw refuse(
                    column,
                    "\(column) is \(Money.yuanText(fen: declared)), \(file) adds up to \(Money.yuanText(fen: parsed))"
                ).contradictingTotals
            }
        }
    }

    private mutating func handle(_ line: LineSplitter.Line, emit: (BillLine) throws -> Void) throws(BillError) {
        let bytes = line.bytes.trimmedSpacesAndTabs()
        if bytes.isEmpty { return }
        // `#` (0x23) is never inside a GBK character, so the first byte tells a frame line.
        if bytes.first == UInt8(ascii: "#") {
            try frameLine(try decode(bytes, line: line.number, column: nil), line: line.number)
            return
        }
        switch stage {
        case .preamble:
            throw refuse(line.number, nil, "frame", "a line before the start marker that is not a # line")
        case .header:
            try checkHeader(bytes, line: line.number)
            stage = .rows
        case .rows:
            let row = try parseRow(bytes, line: line.number)
            summary.count(row)
            do { try emit(row) } catch { throw refuse(line.number, nil, "staging", "\(error)") }
        case .footers:
            throw refuse(line.number, nil, "frame", "a data line after the end marker")
        }
    }

    private mutating func frameLine(_ text: String, line: Int) throws(BillError) {
        switch stage {
        case .preamble:
            if text.contains(AlipayFrame.detailsMarker) && !text.contains(AlipayFrame.endWord) {
                try preamble.check(accountID: accountID, day: billDate, file: file, markerLine: line)
                stage = .header
            } else {
                preamble.read(text, line: line)
            }
        case .header:
            throw refuse(line, nil, "header", "a # line where the header should be")
        case .rows:
            guard text.contains(AlipayFrame.detailsMarker + AlipayFrame.endWord) else {
                throw refuse(line, nil, "frame", "a # line among the rows that is not the end marker")
            }
            stage = .footers
        case .footers:
            let kind: BillLine.Kind? = text.hasPrefix("#交易合计") ? .payment : text.hasPrefix("#退款合计") ? .refund : nil
            guard let kind else { return }  // #导出时间 and other notes
            guard let parsed = AlipayFrame.footer(text) else {
                throw refuse(line, nil, "footer", "\(text) has no (\\d+)笔 or no 共…元 with 2 decimals")
            }
            footers[kind] = (parsed.count, parsed.fen, text, line)
        }
    }

    private func checkHeader(_ bytes: ArraySlice<UInt8>, line: Int) throws(BillError) {
        let names = try bytes.fields(separatedBy: UInt8(ascii: ",")).map { field throws(BillError) in
            try decode(field.trimmedSpacesAndTabs(), line: line, column: nil)
        }
        let expected = AlipayDetailsLayout.header
        for (index, name) in expected.enumerated() where index >= names.count || names[index] != name {
            let found = index < names.count ? names[index] : "nothing"
            throw refuse(line, name, "header", "header column \(index) is \(found), expected \(name)")
        }
        guard names.count == expected.count else {
            throw refuse(line, nil, "header", "the header has \(names.count) columns, expected \(expected.count)")
        }
    }

    private mutating func parseRow(_ bytes: ArraySlice<UInt8>, line: Int) throws(BillError) -> BillLine {
        let names = AlipayDetailsLayout.header
        let raw = bytes.fields(separatedBy: UInt8(ascii: ","))
        var fields: [String] = []
        fields.reserveCapacity(raw.count)
        if raw.count == names.count {
            // The usual row: only the columns Recon uses become text; the others (subject, store,
            // counterparty, remark…) are checked to be well-formed GBK byte by byte, which is all
            // "decodes without replacement" asks of them, without an iconv call each.
            for (index, field) in raw.enumerated() {
                let trimmed = field.trimmedSpacesAndTabs()
                if index == AlipayDetailsLayout.kind, let kind = AlipayDetailsLayout.kindName(gbk: trimmed) {
                    fields.append(kind)  // every row has one of two kinds: no iconv call for them
                } else if AlipayDetailsLayout.used[index] {
                    fields.append(try decode(trimmed, line: line, column: names[index]))
                } else if let error = GBKShape.firstError(trimmed) {
                    throw refuse(line, names[index], "encoding", error.reason)
                } else {
                    fields.append("")
                }
            }
        } else {
            for (index, field) in raw.enumerated() {
                fields.append(
                    try decode(
                        field.trimmedSpacesAndTabs(), line: line, column: index < names.count ? names[index] : nil))
            }
        }
        guard fields.count >= names.count else {
            throw refuse(line, nil, "field count", "\(fields.count) fields where the header has \(names.count)")
        }
        var flags: [String] = []
        if fields.count > names.count { flags.append(Self.rejoin(&fields)) }
        func required(_ index: Int) throws(BillError) -> String {
            guard !fields[index].isEmpty else { throw refuse(line, names[index], "field", "\(names[index]) is empty") }
            return fields[index]
        }
        func money(_ index: Int) throws(BillError) -> Int64 {
            let text = try required(index)
            do { return try Money.fen(fromExactlyTwoDecimals: text) } catch {
                throw refuse(line, names[index], "amount", error.description)
            }
        }
        let kindText = try required(AlipayDetailsLayout.kind)
        let amount = try money(AlipayDetailsLayout.amount)
        let kind: BillLine.Kind
        switch kindText {
        case "交易":
            kind = .payment
            guard amount >= 0 else {
                throw refuse(line, names[11], "sign", "a 交易 row of \(Money.yuanText(fen: amount))")
            }
        case "退款":
            kind = .refund
            guard amount < 0 else {
                throw refuse(
                    line, names[11], "sign", "a 退款 row of \(Money.yuanText(fen: amount)) (refunds are negative)")
            }
        default:
            throw refuse(line, names[2], "kind", "业务类型 \(kindText) is neither 交易 nor 退款")
        }
        let received = try money(AlipayDetailsLayout.received)
        let serviceFee = fields[AlipayDetailsLayout.fee].isEmpty ? 0 : try money(AlipayDetailsLayout.fee)
        let timeText = try required(AlipayDetailsLayout.finished)
        guard let local = LocalTime.parse(timeText) else {
            throw refuse(line, names[5], "time", "\(timeText) is not yyyy-MM-dd HH:mm:ss")
        }
        let microseconds = (local - LocalTime.beijingOffsetSeconds) * 1_000_000
        if let outside = window.flag(microseconds, "完成时间 \(timeText)") { flags.append(outside) }
        switch kind {
        case .payment: paymentTotals.add(amount: amount, received: received, serviceFee: serviceFee)
        case .refund: refundTotals.add(amount: amount, received: received, serviceFee: serviceFee)
        }
        let orderID = fields[AlipayDetailsLayout.orderID]
        let refundID = fields[AlipayDetailsLayout.refundID]
        let transactionID = try required(AlipayDetailsLayout.txnID)
        // A refund row repeats its payment's 支付宝交易号.
        return BillLine(
            channel: channel, billDate: billDate, channelTransactionID: transactionID,
            originalTransactionID: kind == .refund ? transactionID : nil,
            merchantOrderID: orderID.isEmpty ? nil : orderID, refundID: refundID.isEmpty ? nil : refundID, kind: kind,
            amountFen: amount, feeFen: -serviceFee,  // Alipay writes a charged fee negative (unconfirmed, §1.3)
            channelStatus: kindText, timeMicroseconds: microseconds, lineNumber: line,
            flag: flags.isEmpty ? nil : flags.joined(separator: "; "))
    }

    /// More than 25 fields: a comma inside 商品名称 or 备注 (how Alipay writes one is unconfirmed).
    /// If 创建时间 and 完成时间 are found further right, the comma was in 商品名称 and those fields are
    /// joined back; whatever is left over is joined into 备注. Returns the flag.
    static func rejoin(_ fields: inout [String]) -> String {
        let count = fields.count
        let extra = count - AlipayDetailsLayout.header.count
        let created = AlipayDetailsLayout.created
        let shift =
            (0...extra).first { shift in
                LocalTime.parse(fields[created + shift]) != nil && LocalTime.parse(fields[created + shift + 1]) != nil
            } ?? 0
        if shift > 0 {
            fields[AlipayDetailsLayout.subject] = fields[
                AlipayDetailsLayout.subject...(AlipayDetailsLayout.subject + shift)
            ]
            .joined(separator: ",")
            fields.removeSubrange((AlipayDetailsLayout.subject + 1)...(AlipayDetailsLayout.subject + shift))
        }
        let remark = AlipayDetailsLayout.remark
        if fields.count > remark + 1 {
            fields[remark] = fields[remark...].joined(separator: ",")
            fields.removeSubrange((remark + 1)...)
        }
        let place = shift > 0 ? "商品名称" : "备注"
        return
            "\(count) fields where the header has 25: a comma in \(place) was assumed and the extra fields joined back"
    }

    private func decode(_ bytes: ArraySlice<UInt8>, line: Int, column: String?) throws(BillError) -> String {
        do {
            return try decoder.get().decode(bytes)
        } catch let error as TextCodingError {
            throw refuse(line, column, "encoding", error.reason)
        } catch let error as BillError {
            throw error
        } catch {
            throw refuse(line, column, "encoding", "\(error)")
        }
    }

    private func refuse(_ line: Int?, _ column: String?, _ check: String, _ reason: String) -> BillError {
        BillError(file: file, line: line, column: column, check: check, reason: reason)
    }
}
