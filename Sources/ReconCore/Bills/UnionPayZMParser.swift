/// UnionPay's ZM transaction detail file (CHANNELS.md §3.3): fixed-width GBK records of exactly
/// 607 bytes plus CRLF or LF (the last may lack one), cut into fields by byte offset before
/// decoding. No totals and no hash: the checks are per record (length, digits, merId, kind).
public struct UnionPayZMParser: BillParser, Sendable {
    public let file: String
    public let channel: String
    public let billDate: LocalDay
    /// The configured 15-digit merId, which field 28 must equal.
    public let merchantID: String
    public private(set) var summary = BillSummary()

    private typealias Layout = UnionPayZMLayout
    private var splitter = LineSplitter(maximumLength: UnionPayZMLayout.recordLength + 1)
    private let decoder: Result<TextDecoder, BillError>
    private let window: DayWindow

    public init(file: String, channel: String, billDate: LocalDay, merchantID: String) {
        self.file = file
        self.channel = channel
        self.billDate = billDate
        self.merchantID = merchantID
        // The clearing day is believed to end at 23:00 Beijing (unconfirmed, §3.1): D−1 23:00 to D+1 00:00.
        window = DayWindow(day: billDate, offsetSeconds: LocalTime.beijingOffsetSeconds, before: 3600)
        do {
            decoder = .success(try TextDecoder(.gbk))
        } catch {
            decoder = .failure(BillError(file: file, line: nil, column: nil, check: "encoding", reason: error.reason))
        }
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (BillLine) throws -> Void) throws(BillError) {
        var lines: [LineSplitter.Line] = []
        do {
            try splitter.feed(bytes, into: &lines)
        } catch {
            throw refuse(error.line, nil, "record length", "the record is longer than \(Layout.recordLength) bytes")
        }
        for line in lines { try handle(line, emit: emit) }
    }

    /// No totals to check: an empty file is a valid empty day.
    public mutating func finish(emit: (BillLine) throws -> Void) throws(BillError) {
        if let last = splitter.finish() { try handle(last, emit: emit) }
    }

    private mutating func handle(_ line: LineSplitter.Line, emit: (BillLine) throws -> Void) throws(BillError) {
        if line.bytes.isEmpty { return }
        guard line.bytes.count == Layout.recordLength else {
            throw refuse(
                line.number, nil, "record length",
                "\(line.bytes.count) bytes where every record has \(Layout.recordLength)")
        }
        let record = try parseRecord(line.bytes, line: line.number)
        summary.count(record)
        do { try emit(record) } catch { throw refuse(line.number, nil, "staging", "\(error)") }
    }

    private func parseRecord(_ bytes: [UInt8], line: Int) throws(BillError) -> BillLine {
        let decoder = try decoder.get()
        var fields: [String] = []
        fields.reserveCapacity(Layout.lengths.count)
        for number in 1...Layout.lengths.count {
            let cut = bytes[Layout.range(number)].trimmedSpacesAndTabs()
            // Only the fields Recon reads become text; the others are checked to be well-formed GBK
            // byte by byte (CHANNELS.md §6 asks no more of them), sparing an iconv call each.
            guard Layout.used[number] else {
                if let error = GBKShape.firstError(cut) {
                    throw refuse(line, Layout.names[number - 1], "encoding", "field \(number): \(error.reason)")
                }
                fields.append("")
                continue
            }
            do {
                fields.append(try decoder.decode(cut))
            } catch {
                throw refuse(line, Layout.names[number - 1], "encoding", "field \(number): \(error.reason)")
            }
        }
        func field(_ number: Int) -> String { fields[number - 1] }
        func digits(_ number: Int, count: Int? = nil) throws(BillError) -> String {
            let text = field(number)
            guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }),
                count == nil || text.utf8.count == count
            else {
                throw refuse(
                    line, Layout.names[number - 1], "digits",
                    "field \(number) \"\(text)\" is not \(count.map { "\($0) " } ?? "")digits")
            }
            return text
        }
        let merchant = field(Layout.merchantID)
        guard merchant == merchantID else {
            throw refuse(
                line, Layout.names[Layout.merchantID - 1], "identity",
                "merId \(merchant) is not the configured \(merchantID)")
        }
        guard let amount = Int64(try digits(Layout.amount, count: 12)) else {
            throw refuse(line, Layout.names[Layout.amount - 1], "digits", "field 7 is too large")
        }
        let fee = try signedFen(Layout.fee, fields: fields, line: line) ?? 0
        for number in [Layout.settled, Layout.net] { _ = try signedFen(number, fields: fields, line: line) }
        let txnType = try digits(Layout.txnType, count: 2)
        let queryID = field(Layout.queryID)
        guard !queryID.isEmpty else {
            throw refuse(line, Layout.names[Layout.queryID - 1], "field", "queryId is empty")
        }
        let orderID = field(Layout.orderID).isEmpty ? nil : field(Layout.orderID)
        let original = field(Layout.originalQueryID)
        let timeText = try digits(Layout.time, count: 10)
        guard let local = localTime(timeText) else {
            throw refuse(line, Layout.names[Layout.time - 1], "time", "\(timeText) is not a valid MMDDhhmmss")
        }
        let microseconds = (local - LocalTime.beijingOffsetSeconds) * 1_000_000
        var flags: [String] = []
        if let outside = window.flag(microseconds, "交易传输时间 \(timeText) (\(LocalTime.text(local)))") {
            flags.append(outside)
        }
        let kind: BillLine.Kind
        switch txnType {
        case "01":
            kind = .payment
        case "04", "31":
            kind = .refund
            guard !original.isEmpty else {
                throw refuse(
                    line, Layout.names[Layout.originalQueryID - 1], "kind",
                    "a txnType \(txnType) refund without origQryId")
            }
        default:
            // Staged as a payment of the amount as written, so it reaches the discrepancy report
            // with the flag, rather than refusing the whole bill over a pre-auth.
            kind = .payment
            flags.append("UnionPay txnType \(txnType) (\(Layout.txnTypeName(txnType))) is not a payment or refund")
        }
        // A refund is filed under the payment's queryId, like the other channels' refunds; its
        // own orderId is the merchant's refund id.
        return BillLine(
            channel: channel, billDate: billDate, channelTransactionID: kind == .refund ? original : queryID,
            merchantOrderID: kind == .refund ? nil : orderID, refundID: kind == .refund ? orderID : nil, kind: kind,
            amountFen: kind == .refund ? -amount : amount, feeFen: fee, channelStatus: txnType,
            timeMicroseconds: microseconds, lineNumber: line, flag: flags.isEmpty ? nil : flags.joined(separator: "; "))
    }

    /// `D` or `C` and 12 digits of fen: D (charged) positive, C (credited back) negative; 13 bare
    /// digits count as D (the prefix is unconfirmed, §3.3). Nil when the field is blank.
    private func signedFen(_ number: Int, fields: [String], line: Int) throws(BillError) -> Int64? {
        let text = fields[number - 1]
        if text.isEmpty { return nil }
        var bytes = Array(text.utf8)[...]
        var sign: Int64 = 1
        var width = 13
        if bytes.first == UInt8(ascii: "D") || bytes.first == UInt8(ascii: "C") {
            sign = bytes.first == UInt8(ascii: "C") ? -1 : 1
            bytes = bytes.dropFirst()
            width = 12
        }
        guard bytes.count == width, bytes.allSatisfy({ (48...57).contains($0) }),
            let value = Int64(String(decoding: bytes, as: UTF8.self))
        else {
            throw refuse(
                line, UnionPayZMLayout.names[number - 1], "digits",
                "field \(number) \"\(text)\" is not D or C and 12 digits")
        }
        return sign * value
    }

    /// `MMDDhhmmss` with the bill's year, or the year before for a December line in a January
    /// bill (and after, for the reverse), as local seconds.
    private func localTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard let month = LocalTime.number(bytes, 0..<2), let day = LocalTime.number(bytes, 2..<4),
            let hour = LocalTime.number(bytes, 4..<6), let minute = LocalTime.number(bytes, 6..<8),
            let second = LocalTime.number(bytes, 8..<10)
        else { return nil }
        var year = billDate.year
        if month == 12 && billDate.month == 1 { year -= 1 }
        if month == 1 && billDate.month == 12 { year += 1 }
        return LocalTime.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    private func refuse(_ line: Int?, _ column: String?, _ check: String, _ reason: String) -> BillError {
        BillError(file: file, line: line, column: column, check: check, reason: reason)
    }
}
