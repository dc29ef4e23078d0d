/// The `bank_csv` adapter's parser for the default profile `recon-bank-v1` (CHANNELS.md §4):
/// UTF-8, comma, RFC 4180 quoting, amounts in yuan, refunds negative, fee positive when charged,
/// times `yyyy-MM-dd HH:mm:ss` at +08:00, and a required trailer `#TOTAL,count,sum,fee` that must
/// agree with the lines. Lines stream out of `feed` as they are read (a million-line bill never
/// sits in memory); the caller stages them inside its transaction and commits only when `finish`
/// has checked the trailer, so a bill that fails any check leaves nothing staged.
public struct BankCSVParser: Sendable {
    public static let requiredColumns = ["txn_time", "channel_txn_id", "amount", "kind"]

    public let file: String
    public let channel: String
    public let billDate: LocalDay
    /// Offset of the bill's local times from UTC, in seconds (Beijing: +8 h, no DST).
    public let utcOffsetSeconds: Int64
    private var reader = CSVRecordReader()
    private var columns: [String: Int]?
    private var trailer: (count: Int64, sum: Int64, fee: Int64, line: Int)?
    private var sums = (count: Int64(0), amount: Int64(0), fee: Int64(0))

    public init(file: String, channel: String, billDate: LocalDay, utcOffsetSeconds: Int64 = 8 * 3600) {
        self.file = file
        self.channel = channel
        self.billDate = billDate
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Parses the next bytes; `emit` gets each data line, already checked line by line.
    public mutating func feed(_ bytes: some Sequence<UInt8>, emit: (BillLine) throws -> Void) throws(BillError) {
        let records = try readRecords { reader, collect in try reader.feed(bytes, emit: collect) }
        for record in records { try handle(record, emit: emit) }
    }

    /// The end of the file: checks that the trailer was there and agrees with the lines.
    public mutating func finish(emit: (BillLine) throws -> Void) throws(BillError) {
        let records = try readRecords { reader, collect in try reader.finish(emit: collect) }
        for record in records { try handle(record, emit: emit) }
        guard columns != nil else { throw refuse(nil, nil, "header", "the file is empty: no header line") }
        guard let trailer else { throw refuse(nil, nil, "trailer", "the #TOTAL trailer line is missing (the file may be cut)") }
        guard trailer.count == sums.count else {
            throw refuse(trailer.line, "count", "trailer", "the trailer says \(trailer.count) lines, the file has \(sums.count)")
        }
        guard trailer.sum == sums.amount else {
            throw refuse(
                trailer.line, "sum", "trailer",
                "the trailer's sum is \(Money.yuanText(fen: trailer.sum)), the lines add up to \(Money.yuanText(fen: sums.amount))")
        }
        guard trailer.fee == sums.fee else {
            throw refuse(
                trailer.line, "fee", "trailer",
                "the trailer's fee is \(Money.yuanText(fen: trailer.fee)), the lines add up to \(Money.yuanText(fen: sums.fee))")
        }
    }

    /// The total the trailer promised, once `finish` passed: (lines, amount fen, fee fen).
    public var totals: (count: Int64, amountFen: Int64, feeFen: Int64) { (sums.count, sums.amount, sums.fee) }

    /// Runs one step of the CSV reader and returns the records it completed; a syntax failure
    /// becomes a `BillError` naming the file, line and column.
    private mutating func readRecords(
        _ step: (inout CSVRecordReader, (CSVRecordReader.Record) -> Void) throws -> Void
    ) throws(BillError) -> [CSVRecordReader.Record] {
        var records: [CSVRecordReader.Record] = []
        do {
            try step(&reader) { records.append($0) }
        } catch let failure as CSVRecordReader.Failure {
            throw BillError(
                file: file, line: failure.line, column: String(failure.column), check: "CSV syntax", reason: failure.reason)
        } catch {
            throw BillError(file: file, line: nil, column: nil, check: "CSV syntax", reason: "\(error)")
        }
        return records
    }

    private mutating func handle(_ record: CSVRecordReader.Record, emit: (BillLine) throws -> Void) throws(BillError) {
        let fields = record.fields.map { String(decoding: $0, as: UTF8.self) }
        if trailer != nil {
            throw refuse(record.line, nil, "trailer", "a line follows the #TOTAL trailer")
        }
        guard let columns else {
            try readHeader(fields, line: record.line)
            return
        }
        if fields.first?.hasPrefix("#TOTAL") == true {
            try readTrailer(fields, line: record.line)
            return
        }
        if fields.count == 1, fields[0].isEmpty { return }  // a blank line
        if fields.first?.hasPrefix("#") == true { return }  // a comment line
        guard fields.count == columns.count else {
            throw refuse(record.line, nil, "field count", "\(fields.count) fields where the header has \(columns.count)")
        }
        let line = try parseLine(fields, columns: columns, line: record.line)
        sums.count += 1
        sums.amount &+= line.amountFen
        sums.fee &+= line.feeFen
        do {
            try emit(line)
        } catch {
            throw refuse(record.line, nil, "staging", "\(error)")
        }
    }

    private mutating func readHeader(_ fields: [String], line: Int) throws(BillError) {
        var map: [String: Int] = [:]
        for (index, name) in fields.enumerated() {
            var name = name.trimmingCharacters(in: " \t")
            if index == 0, name.hasPrefix("\u{FEFF}") { name.removeFirst() }
            map[name] = index
        }
        for required in Self.requiredColumns where map[required] == nil {
            throw refuse(line, required, "header", "the header has no \(required) column (it has \(fields.joined(separator: ", ")))")
        }
        columns = map
    }

    private mutating func readTrailer(_ fields: [String], line: Int) throws(BillError) {
        guard fields.count == 4, fields[0] == "#TOTAL", let count = Int64(fields[1]), count >= 0 else {
            throw refuse(line, nil, "trailer", "the trailer must be #TOTAL,<count>,<sum>,<fee>")
        }
        do {
            trailer = (count, try Money.fen(fromYuan: fields[2]), try Money.fen(fromYuan: fields[3]), line)
        } catch {
            throw refuse(line, nil, "trailer", error.description)
        }
    }

    private func parseLine(_ fields: [String], columns: [String: Int], line: Int) throws(BillError) -> BillLine {
        func value(_ name: String) -> String? {
            columns[name].map { fields[$0].trimmingCharacters(in: " \t") }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func required(_ name: String) throws(BillError) -> String {
            guard let text = value(name) else { throw refuse(line, name, "field", "\(name) is empty") }
            return text
        }
        func money(_ name: String) throws(BillError) -> Int64 {
            guard let text = value(name) else { return 0 }
            do { return try Money.fen(fromYuan: text) } catch { throw refuse(line, name, "amount", error.description) }
        }
        let kindText = try required("kind")
        guard let kind = BillLine.Kind(rawValue: kindText) else {
            throw refuse(line, "kind", "kind", "\(kindText) is neither payment nor refund")
        }
        let amount = try money("amount")
        // recon-bank-v1 writes refunds negative and payments positive; anything else is a broken bill.
        guard kind == .refund ? amount < 0 : amount >= 0 else {
            throw refuse(line, "amount", "sign", "a \(kind.rawValue) of \(Money.yuanText(fen: amount)) has the wrong sign")
        }
        if let currency = value("currency"), currency != "CNY" {
            throw refuse(line, "currency", "currency", "\(currency) is not CNY")
        }
        let timeText = try required("txn_time")
        guard let local = LocalTime.parse(timeText) else {
            throw refuse(line, "txn_time", "time", "\(timeText) is not yyyy-MM-dd HH:mm:ss")
        }
        return BillLine(
            channel: channel, billDate: billDate, channelTransactionID: try required("channel_txn_id"),
            merchantOrderID: value("merchant_order_id"), refundID: value("refund_id"), kind: kind, amountFen: amount,
            feeFen: try money("fee"), channelStatus: value("status"),
            timeMicroseconds: (local - utcOffsetSeconds) * 1_000_000, lineNumber: line)
    }

    private func refuse(_ line: Int?, _ column: String?, _ check: String, _ reason: String) -> BillError {
        BillError(file: file, line: line, column: column, check: check, reason: reason)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let drop: (Character) -> Bool = { set.contains($0) }
        var text = Substring(self)
        while let first = text.first, drop(first) { text.removeFirst() }
        while let last = text.last, drop(last) { text.removeLast() }
        return String(text)
    }
}
