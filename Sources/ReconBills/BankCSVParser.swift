public import ReconCore

/// The `bank_csv` adapter's parser (CHANNELS.md §4), following a `BankCSVProfile`; the default is
/// `recon-bank-v1`. Lines stream out of `feed` as they are read (a million-line bill never sits in
/// memory); the caller stages them inside its transaction and commits only when `finish` has
/// checked the trailer, so a bill that fails any check leaves nothing staged.
public struct BankCSVParser: BillParser, Sendable {
    public let file: String
    public let channel: String
    public let billDate: LocalDay
    public let profile: BankCSVProfile
    public private(set) var summary = BillSummary()
    private let decoder: Result<TextDecoder, BillError>
    private let window: DayWindow
    private let delimiterText: String
    /// The trailer's literal prefix up to the first delimiter: what its first field starts with.
    private let trailerHead: String
    private var reader: CSVRecordReader
    private var prefix: BankCSVPrefix
    /// The data lines' field count: the header's, or the first line's without a header.
    private var fieldCount: Int?
    private var headerNames: [String] = []
    private var indices: ResolvedColumns?
    private var trailer: (line: Int, text: String)?
    private var lastComment: (line: Int, text: String)?
    /// Σ of amounts and fees as written, in the file's unit and signs, for the trailer.
    private var written = (amount: Int64(0), fee: Int64(0))

    public init(file: String, channel: String, billDate: LocalDay, profile: BankCSVProfile = .reconBankV1) {
        self.file = file
        self.channel = channel
        self.billDate = billDate
        self.profile = profile
        reader = CSVRecordReader(delimiter: profile.delimiter, quote: profile.quote)
        delimiterText = String(Character(Unicode.Scalar(profile.delimiter)))
        trailerHead = String(
            profile.trailer?.literalPrefix.split(
                separator: delimiterText, maxSplits: 1, omittingEmptySubsequences: false
            ).first ?? "")
        prefix = BankCSVPrefix(stripBOM: profile.encoding == .utf8, skipLines: profile.skipLines)
        // "Within D ± tolerance": an hour either side of the bank's day.
        window = DayWindow(day: billDate, offsetSeconds: profile.timeZone.seconds, before: 3600, after: 3600)
        if let problem = profile.problem() {
            decoder = .failure(
                BillError(file: file, line: nil, column: problem.key, check: "profile", reason: problem.message))
        } else {
            do {
                decoder = .success(try TextDecoder(profile.encoding))
            } catch {
                decoder = .failure(
                    BillError(file: file, line: nil, column: nil, check: "encoding", reason: error.reason))
            }
        }
    }

    /// Parses the next bytes; `emit` gets each data line, already checked line by line.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (BillLine) throws -> Void) throws(BillError) {
        _ = try decoder.get()
        let body = prefix.consume(bytes)
        let records = try readRecords { reader, collect in try reader.feed(body, emit: collect) }
        for record in records { try handle(record, emit: emit) }
    }

    /// The end of the file: checks that the trailer was there and agrees with the lines.
    public mutating func finish(emit: (BillLine) throws -> Void) throws(BillError) {
        _ = try decoder.get()
        let rest = prefix.finish()
        let records = try readRecords { reader, collect in
            try reader.feed(rest, emit: collect)
            try reader.finish(emit: collect)
        }
        for record in records { try handle(record, emit: emit) }
        if profile.header && indices == nil {
            throw refuse(nil, nil, "header", "the file has no header line")
        }
        guard let pattern = profile.trailer else { return }
        guard let trailer else {
            var reason = "the trailer line is missing (the file may be cut)"
            if let lastComment, !pattern.literalPrefix.isEmpty, lastComment.text.hasPrefix(pattern.literalPrefix) {
                reason += "; line \(lastComment.line) \"\(lastComment.text)\" does not match \(pattern.pattern)"
            }
            throw refuse(nil, nil, "trailer", reason)
        }
        try checkTrailer(trailer.text, pattern: pattern, line: trailer.line)
    }

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
                file: file, line: failure.line + profile.skipLines, column: String(failure.column),
                check: "CSV syntax", reason: failure.reason)
        } catch {
            throw BillError(file: file, line: nil, column: nil, check: "CSV syntax", reason: "\(error)")
        }
        return records
    }

    private mutating func handle(_ record: CSVRecordReader.Record, emit: (BillLine) throws -> Void) throws(BillError) {
        let line = record.line + profile.skipLines
        if record.fields.count == 1 && record.fields[0].isEmpty { return }  // a blank line
        let fields = try decode(record.fields, line: line)
        if let trailer {
            throw refuse(line, nil, "trailer", "a line follows the \(trailer.text) trailer (line \(trailer.line))")
        }
        // Only a line whose first field could start the trailer is joined and matched.
        if let pattern = profile.trailer, fields[0].hasPrefix(trailerHead) {
            let text = fields.joined(separator: delimiterText)
            if pattern.match(text) != nil {
                trailer = (line, text)
                return
            }
        }
        if let comment = profile.commentPrefix, fields[0].hasPrefix(comment) {
            lastComment = (line, fields.joined(separator: delimiterText))
            return
        }
        if profile.header && indices == nil {
            try readHeader(fields, line: line)
            return
        }
        if indices == nil { try resolveIndices(fieldCount: fields.count, line: line) }
        guard let indices, fields.count == fieldCount else {
            let expected = fieldCount.map(String.init) ?? "?"
            throw refuse(line, nil, "field count", "\(fields.count) fields where the header has \(expected)")
        }
        let parsed = try parseLine(fields, indices, line: line)
        summary.count(parsed)
        do {
            try emit(parsed)
        } catch {
            throw refuse(line, nil, "staging", "\(error)")
        }
    }

    private func decode(_ fields: [[UInt8]], line: Int) throws(BillError) -> [String] {
        let decoder = try decoder.get()
        var texts: [String] = []
        texts.reserveCapacity(fields.count)
        for (index, bytes) in fields.enumerated() {
            do {
                // Spaces and TABs are ASCII in every encoding here, so trimming bytes is safe.
                texts.append(try decoder.decode(bytes.trimmedSpacesAndTabs()))
            } catch {
                throw refuse(line, columnName(index), "encoding", error.reason)
            }
        }
        return texts
    }

    private func columnName(_ index: Int) -> String {
        index < headerNames.count ? headerNames[index] : "index \(index)"
    }

    private mutating func readHeader(_ fields: [String], line: Int) throws(BillError) {
        headerNames = fields
        try resolveIndices(fieldCount: fields.count, line: line)
    }

    /// Finds every mapped column: by name in the header, or checks the index fits the line.
    private mutating func resolveIndices(fieldCount: Int, line: Int) throws(BillError) {
        var found: [String: Int] = [:]
        for (key, column) in profile.columns.all {
            switch column {
            case .index(let index):
                guard index < fieldCount else {
                    throw refuse(
                        line, column.description, "header",
                        "\(key) is column \(index), the line has \(fieldCount) fields")
                }
                found[key] = index
            case .name(let name):
                let matches = headerNames.indices.filter { headerNames[$0] == name }
                guard let index = matches.first else {
                    throw refuse(
                        line, name, "header",
                        "the header has no \(name) column (it has \(headerNames.joined(separator: ", ")))")
                }
                guard matches.count == 1 else {
                    throw refuse(line, name, "header", "the header has \(matches.count) \(name) columns")
                }
                found[key] = index
            }
        }
        self.fieldCount = fieldCount
        indices = ResolvedColumns(found)
    }

    private mutating func parseLine(_ fields: [String], _ columns: ResolvedColumns, line: Int) throws(BillError)
        -> BillLine
    {
        func value(_ index: Int?) -> String? {
            index.flatMap { fields[$0].isEmpty ? nil : fields[$0] }
        }
        func required(_ index: Int) throws(BillError) -> String {
            guard let text = value(index) else {
                throw refuse(line, columnName(index), "field", "\(columnName(index)) is empty")
            }
            return text
        }
        func money(_ index: Int?) throws(BillError) -> Int64 {
            guard let index, let text = value(index) else { return 0 }
            do { return try parseAmount(text) } catch {
                throw refuse(line, columnName(index), "amount", error.description)
            }
        }
        let writtenAmount = try money(columns.amount)
        let kind: BillLine.Kind
        if let kindIndex = columns.kind {
            let text = try required(kindIndex)
            let map = profile.kindMap.isEmpty ? ["payment": BillLine.Kind.payment, "refund": .refund] : profile.kindMap
            guard let mapped = map[text] else {
                let known = map.keys.sorted().joined(separator: ", ")
                throw refuse(
                    line, columnName(kindIndex), "kind", "\(text) is neither payment nor refund (kind_map has \(known))"
                )
            }
            kind = mapped
        } else {
            kind = writtenAmount < 0 ? .refund : .payment
        }
        let amount = try signedAmount(writtenAmount, kind: kind, line: line, column: columnName(columns.amount))
        let writtenFee = try money(columns.fee)
        written.amount &+= writtenAmount
        written.fee &+= writtenFee
        let fee = profile.feeSign == .chargedNegative ? -writtenFee : writtenFee
        if let index = columns.currency, let currency = value(index), currency != "CNY" {
            throw refuse(line, columnName(index), "currency", "\(currency) is not CNY")
        }
        let timeText = try required(columns.time)
        guard let time = profile.timeFormat.parse(timeText) else {
            throw refuse(
                line, columnName(columns.time), "time",
                "\(timeText) is not \(profile.timeFormat.readable) (time_format \(profile.timeFormat.pattern))")
        }
        let microseconds = (time.localSeconds - (time.offsetSeconds ?? profile.timeZone.seconds)) * 1_000_000
        return BillLine(
            channel: channel, billDate: billDate, channelTransactionID: try required(columns.txnID),
            merchantOrderID: value(columns.orderID), refundID: value(columns.refundID), kind: kind, amountFen: amount,
            feeFen: fee, channelStatus: value(columns.status), timeMicroseconds: microseconds, lineNumber: line,
            flag: window.flag(microseconds, "time \(timeText)"))
    }

    /// Applies `refund_sign`: the written amount as Recon's signed fen (payment +, refund −).
    private func signedAmount(_ written: Int64, kind: BillLine.Kind, line: Int, column: String) throws(BillError)
        -> Int64
    {
        func wrongSign() -> BillError {
            let convention =
                profile.refundSign == .negative ? "refunds are written negative" : "refunds are written positive"
            return refuse(
                line, column, "sign",
                "a \(kind.rawValue) of \(amountText(written)) has the wrong sign (\(convention), payments positive)")
        }
        switch (profile.refundSign, kind) {
        case (.absolute, .payment): return written.magnitudeClamped
        case (.absolute, .refund): return -written.magnitudeClamped
        case (_, .payment): guard written >= 0 else { throw wrongSign() }; return written
        case (.negative, .refund): guard written < 0 else { throw wrongSign() }; return written
        case (.positive, .refund): guard written > 0 else { throw wrongSign() }; return -written
        }
    }

    /// An amount in the profile's unit, as fen.
    private func parseAmount(_ text: String) throws(Money.ParseError) -> Int64 {
        switch profile.amountUnit {
        case .yuan: return try Money.fen(fromYuan: text)
        case .fen: return try Money.scaled(text, decimals: 0)
        }
    }

    private func amountText(_ fen: Int64) -> String {
        profile.amountUnit == .yuan ? Money.yuanText(fen: fen) : "\(fen) fen"
    }

    private mutating func checkTrailer(_ text: String, pattern: BankCSVTrailer, line: Int) throws(BillError) {
        summary.declaredTotals = text
        let groups = pattern.match(text) ?? [:]
        if let countText = groups["count"] {
            guard let count = Int64(countText), count == summary.lines else {
                throw refuse(
                    line, "count", "trailer", "the trailer says \(countText) lines, the file has \(summary.lines)"
                ).contradictingTotals
            }
        }
        for (group, sum) in [("sum", written.amount), ("fee", written.fee)] {
            guard let declaredText = groups[group] else { continue }
            let declared: Int64
            do { declared = try parseAmount(declaredText) } catch {
                throw refuse(line, group, "trailer", error.description)
            }
            guard declared == sum else {
                throw refuse(
                    line, group, "trailer",
                    "the trailer's \(group) is \(amountText(declared)), the lines add up to \(amountText(sum))"
                ).contradictingTotals
            }
        }
    }

    private func refuse(_ line: Int?, _ column: String?, _ check: String, _ reason: String) -> BillError {
        BillError(file: file, line: line, column: column, check: check, reason: reason)
    }
}

/// Column positions once the header (or the first line) has been read.
private struct ResolvedColumns: Sendable {
    var txnID: Int, amount: Int, time: Int
    var orderID: Int?, refundID: Int?, kind: Int?, fee: Int?, status: Int?, currency: Int?

    init?(_ found: [String: Int]) {
        guard let txnID = found["txn_id"], let amount = found["amount"], let time = found["time"] else { return nil }
        self.txnID = txnID
        self.amount = amount
        self.time = time
        orderID = found["order_id"]
        refundID = found["refund_id"]
        kind = found["kind"]
        fee = found["fee"]
        status = found["status"]
        currency = found["currency"]
    }
}

extension Int64 {
    /// |value|, with `Int64.min` (never a real amount) kept from trapping.
    fileprivate var magnitudeClamped: Int64 { self == .min ? .max : Swift.abs(self) }
}
