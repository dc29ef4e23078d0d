public import ReconCore

/// UnionPay's ZM transaction detail file (CHANNELS.md §3.3): fixed-width GBK records of exactly
/// 607 bytes plus CRLF or LF (the last may lack one), cut into fields by byte offset before
/// decoding. No totals and no hash: the checks are per record (length, digits, merId, kind).
public struct UnionPayZMParser: BillParser, Sendable {
    public let file: String
    public let channel: String
    public let billDate: LocalDay
    /// The configured 15-digit merId, which field 28 must equal.
    public let merchantID: String
    private let merchantBytes: [UInt8]
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
        merchantBytes = Array(merchantID.utf8)
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
        try bytes.withUnsafeBytes { record in Result { () throws(BillError) in try parseRecord(record, line: line) } }
            .get()
    }

    /// Reads the record in place: fields are cut as byte ranges, numbers read from their digits,
    /// and only the three identifiers Recon keeps become `String`s.
    private func parseRecord(_ record: UnsafeRawBufferPointer, line: Int) throws(BillError) -> BillLine {
        let decoder = try decoder.get()
        func field(_ number: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: record[Layout.ranges[number]]).trimmingSpacesAndTabs()
        }
        // CHANNELS.md §6 asks every field to be well-formed GBK. One pass over the record says
        // whether they all are; only when not are the fields checked one by one, for the message.
        if !Self.isWellFormedGBK(record) {
            for number in 1...Layout.lengths.count {
                if let error = GBKShape.firstError(field(number)) {
                    throw refuse(line, Layout.names[number - 1], "encoding", "field \(number): \(error.reason)")
                }
            }
        }
        func text(_ number: Int) throws(BillError) -> String {
            do {
                return try decoder.decode(field(number))
            } catch {
                throw refuse(line, Layout.names[number - 1], "encoding", "field \(number): \(error.reason)")
            }
        }
        /// The field as written, for messages only.
        func shown(_ number: Int) -> String { (try? decoder.decode(field(number))) ?? "?" }
        func digits(_ number: Int, count: Int) throws(BillError) -> Int64 {
            let bytes = field(number)
            guard bytes.count == count, let value = Self.decimal(bytes) else {
                throw refuse(
                    line, Layout.names[number - 1], "digits",
                    "field \(number) \"\(shown(number))\" is not \(count) digits")
            }
            return value
        }
        /// `D` or `C` and 12 digits of fen: D (charged) positive, C (credited back) negative; 13
        /// bare digits count as D (the prefix is unconfirmed, §3.3). Nil when the field is blank.
        func signedFen(_ number: Int) throws(BillError) -> Int64? {
            let bytes = field(number)
            if bytes.isEmpty { return nil }
            let prefix = bytes[0]
            let signed = prefix == UInt8(ascii: "D") || prefix == UInt8(ascii: "C")
            let magnitude = signed ? UnsafeRawBufferPointer(rebasing: bytes[1...]) : bytes
            guard magnitude.count == (signed ? 12 : 13), let value = Self.decimal(magnitude) else {
                throw refuse(
                    line, Layout.names[number - 1], "digits",
                    "field \(number) \"\(shown(number))\" is not D or C and 12 digits")
            }
            return prefix == UInt8(ascii: "C") ? -value : value
        }

        guard field(Layout.merchantID).elementsEqual(merchantBytes) else {
            throw refuse(
                line, Layout.names[Layout.merchantID - 1], "identity",
                "merId \(shown(Layout.merchantID)) is not the configured \(merchantID)")
        }
        let amount = try digits(Layout.amount, count: 12)
        let fee = try signedFen(Layout.fee) ?? 0
        _ = try signedFen(Layout.settled)
        _ = try signedFen(Layout.net)
        _ = try digits(Layout.txnType, count: 2)
        let txnType = field(Layout.txnType)
        let queryID = try text(Layout.queryID)
        guard !queryID.isEmpty else {
            throw refuse(line, Layout.names[Layout.queryID - 1], "field", "queryId is empty")
        }
        let orderText = try text(Layout.orderID)
        let orderID = orderText.isEmpty ? nil : orderText
        _ = try digits(Layout.time, count: 10)
        guard let local = localTime(field(Layout.time)) else {
            throw refuse(line, Layout.names[Layout.time - 1], "time", "\(shown(Layout.time)) is not a valid MMDDhhmmss")
        }
        let microseconds = (local - LocalTime.beijingOffsetSeconds) * 1_000_000
        var flags: [String] = []
        if let outside = window.flag(microseconds, "交易传输时间 \(shown(Layout.time)) (\(LocalTime.text(local)))") {
            flags.append(outside)
        }
        let kind: BillLine.Kind
        var original = ""
        switch (txnType[0], txnType[1]) {
        case (UInt8(ascii: "0"), UInt8(ascii: "1")):
            kind = .payment
        case (UInt8(ascii: "0"), UInt8(ascii: "4")), (UInt8(ascii: "3"), UInt8(ascii: "1")):
            kind = .refund
            original = try text(Layout.originalQueryID)
            guard !original.isEmpty else {
                throw refuse(
                    line, Layout.names[Layout.originalQueryID - 1], "kind",
                    "a txnType \(shown(Layout.txnType)) refund without origQryId")
            }
        default:
            // Staged as a payment of the amount as written, so it reaches the discrepancy report
            // with the flag, rather than refusing the whole bill over a pre-auth.
            kind = .payment
            let code = shown(Layout.txnType)
            flags.append("UnionPay txnType \(code) (\(Layout.txnTypeName(code))) is not a payment or refund")
        }
        // A refund has a queryId of its own, which its leg carries (issue 12, §2); origQryId names
        // the payment, and the refund's own orderId is the merchant's refund id.
        return BillLine(
            channel: channel, billDate: billDate, channelTransactionID: queryID,
            originalTransactionID: kind == .refund ? original : nil, merchantOrderID: kind == .refund ? nil : orderID,
            refundID: kind == .refund ? orderID : nil, kind: kind,
            amountFen: kind == .refund ? -amount : amount, feeFen: fee, channelStatus: Self.txnTypeText(txnType),
            timeMicroseconds: microseconds, lineNumber: line, flag: flags.isEmpty ? nil : flags.joined(separator: "; "))
    }

    /// The two-digit txnType as text, without a new String for the common codes.
    private static func txnTypeText(_ bytes: UnsafeRawBufferPointer) -> String {
        switch (bytes[0], bytes[1]) {
        case (UInt8(ascii: "0"), UInt8(ascii: "1")): "01"
        case (UInt8(ascii: "0"), UInt8(ascii: "4")): "04"
        case (UInt8(ascii: "3"), UInt8(ascii: "1")): "31"
        default: String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The digits as a number; nil if a byte is not a digit, or for more than 18 digits.
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }

    /// GBKShape's rule over the whole record, skipping ASCII eight bytes at a time, with every
    /// character inside one field. False may still mean a break only in a separator, which the
    /// per-field check ignores as before.
    private static func isWellFormedGBK(_ record: UnsafeRawBufferPointer) -> Bool {
        Layout.fieldOfByte.withUnsafeBufferPointer { owners in
            guard record.count == owners.count else { return false }
            var index = 0
            let count = record.count
            while index < count {
                if index + 8 <= count,
                    record.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                {
                    index += 8
                    continue
                }
                let byte = record[index]
                if byte <= 0x80 {
                    index += 1
                    continue
                }
                guard byte != 0xFF, index + 1 < count, owners[index] != 0, owners[index + 1] == owners[index] else {
                    return false
                }
                let trail = record[index + 1]
                guard trail >= 0x40, trail != 0x7F, trail != 0xFF else { return false }
                index += 2
            }
            return true
        }
    }

    /// `MMDDhhmmss` (digits already checked) with the bill's year, or the year before for a
    /// December line in a January bill (and after, for the reverse), as local seconds.
    private func localTime(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        func number(_ offset: Int) -> Int { Int(bytes[offset] &- 48) * 10 + Int(bytes[offset + 1] &- 48) }
        let (month, day, hour, minute, second) = (number(0), number(2), number(4), number(6), number(8))
        var year = billDate.year
        if month == 12 && billDate.month == 1 { year -= 1 }
        if month == 1 && billDate.month == 12 { year += 1 }
        return LocalTime.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    private func refuse(_ line: Int?, _ column: String?, _ check: String, _ reason: String) -> BillError {
        BillError(file: file, line: line, column: column, check: check, reason: reason)
    }
}
