public import ReconCore
public import ReconMatching

/// One row of the payments file (issue 12, §1): amounts and fees signed here (a refund's
/// negative), written as magnitudes.
public struct SyntheticLeg: Sendable, Equatable {
    public var orderID: String
    public var legID: String
    public var businessSystem: String
    public var merchantID: String
    public var kind: LegKind
    /// The `[[channel]]` name; nil for a virtual leg.
    public var channel: String?
    public var channelTransactionID: String?
    public var refundID: String?
    public var direction: LegDirection
    /// Signed fen (payment +, refund −); yuan-equivalent for virtual legs (1 point = 1 fen).
    public var amountFen: Int64
    /// Signed fen: "+ charged, − given back".
    public var feeFen: Int64
    public var status: LegStatus
    public var occurredAtMicroseconds: Int64

    public init(
        orderID: String, legID: String, businessSystem: String, merchantID: String, kind: LegKind, channel: String?,
        channelTransactionID: String?, refundID: String?, direction: LegDirection, amountFen: Int64, feeFen: Int64,
        status: LegStatus, occurredAtMicroseconds: Int64
    ) {
        self.orderID = orderID
        self.legID = legID
        self.businessSystem = businessSystem
        self.merchantID = merchantID
        self.kind = kind
        self.channel = channel
        self.channelTransactionID = channelTransactionID
        self.refundID = refundID
        self.direction = direction
        self.amountFen = amountFen
        self.feeFen = feeFen
        self.status = status
        self.occurredAtMicroseconds = occurredAtMicroseconds
    }

    public static let header =
        "order_id,leg_id,business_system,merchant_id,leg_kind,channel,channel_txn_id,refund_id,direction,amount,fee,status,occurred_at"

    /// The row as the payments file writes it (no line end).
    public var csvLine: String { String(decoding: csvBytes, as: UTF8.self) }

    /// The row's UTF-8 bytes, built without intermediate strings (a million-line day writes
    /// a million of them).
    public var csvBytes: [UInt8] {
        var row = CSVRow()
        row.field(orderID)
        row.field(legID)
        row.field(businessSystem)
        row.field(merchantID)
        row.field(kind.rawValue)
        row.field(channel ?? "")
        row.field(channelTransactionID ?? "")
        row.field(refundID ?? "")
        row.field(direction.rawValue)
        row.yuan(amountFen.magnitude)
        row.yuan(feeFen.magnitude)
        row.field(status.rawValue)
        row.time(occurredAtMicroseconds)
        return row.bytes
    }

    /// What the leg meets a bill line on; nil for a virtual leg.
    public func key(rule: KeyRule) -> MatchKey? {
        guard kind == .channel, let channelTransactionID else { return nil }
        return MatchKey(
            transactionID: channelTransactionID, refundID: refundID, isRefund: direction == .refund, rule: rule)
    }
}

/// One row of the virtual-account ledger, signed as the leg moves it.
public struct SyntheticLedgerEntry: Sendable, Equatable {
    public var entryID: String
    public var accountID: String
    public var asset: LegKind
    public var legID: String
    public var amountFen: Int64
    public var occurredAtMicroseconds: Int64

    public init(
        entryID: String, accountID: String, asset: LegKind, legID: String, amountFen: Int64,
        occurredAtMicroseconds: Int64
    ) {
        self.entryID = entryID
        self.accountID = accountID
        self.asset = asset
        self.legID = legID
        self.amountFen = amountFen
        self.occurredAtMicroseconds = occurredAtMicroseconds
    }

    public static let header = "entry_id,account_id,asset,leg_id,amount,occurred_at"

    public var csvLine: String { String(decoding: csvBytes, as: UTF8.self) }

    public var csvBytes: [UInt8] {
        var row = CSVRow()
        row.field(entryID)
        row.field(accountID)
        row.field(asset.rawValue)
        row.field(legID)
        row.separate()
        if amountFen < 0 { row.bytes.append(UInt8(ascii: "-")) }
        row.yuan(amountFen.magnitude, separated: false)
        row.time(occurredAtMicroseconds)
        return row.bytes
    }
}

/// Writes a text file line by line (UTF-8, LF) to a sink in chunks of about 64 KiB: the payments
/// and ledger files, whose header is written first.
public struct SyntheticCSVWriter {
    private var out: BillByteSinkLF

    public init(header: String, sink: @escaping ([UInt8]) throws -> Void) throws {
        out = BillByteSinkLF(sink: sink)
        try out.line(bytes: Array(header.utf8))
    }

    public mutating func append(_ line: String) throws { try out.line(bytes: Array(line.utf8)) }

    /// A line already encoded (no line end).
    public mutating func append(bytes: [UInt8]) throws { try out.line(bytes: bytes) }

    public mutating func finish() throws { try out.flush() }
}

/// `BillByteSink`'s chunking with LF line ends, for the payment center's own files.
struct BillByteSinkLF {
    private let sink: ([UInt8]) throws -> Void
    private var buffer: [UInt8] = []

    init(sink: @escaping ([UInt8]) throws -> Void) { self.sink = sink }

    mutating func line(bytes: [UInt8]) throws {
        buffer += bytes
        buffer.append(10)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// One CSV row of the payment center's files as bytes: fields without quoting (no synthetic
/// value holds a comma or quote), yuan with two decimals, ISO 8601 times.
struct CSVRow {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(160) }

    /// The separator before every field but the first.
    mutating func separate() { if !bytes.isEmpty { bytes.append(UInt8(ascii: ",")) } }

    mutating func field(_ text: String) {
        separate()
        bytes += text.utf8
    }

    mutating func digits(_ value: UInt64, width: Int = 1) {
        var count = 1
        var scale: UInt64 = 1
        while value / scale >= 10 {
            scale *= 10
            count += 1
        }
        for _ in count..<Swift.max(width, count) { bytes.append(UInt8(ascii: "0")) }
        while scale > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / scale % 10))
            scale /= 10
        }
    }

    /// Fen as yuan with two decimals: `1234` → `12.34`.
    mutating func yuan(_ fen: UInt64, separated: Bool = true) {
        if separated { separate() }
        digits(fen / 100)
        bytes.append(UInt8(ascii: "."))
        digits(fen % 100, width: 2)
    }

    /// `2026-11-23T09:15:07+08:00`.
    mutating func time(_ microseconds: Int64) {
        separate()
        let local = LocalTime.beijingSeconds(atMicroseconds: microseconds)
        let parts = LocalTime.components(local)
        digits(UInt64(parts.year), width: 4)
        let marks: [(UInt8, Int)] = [
            (UInt8(ascii: "-"), parts.month), (UInt8(ascii: "-"), parts.day), (UInt8(ascii: "T"), parts.hour),
            (UInt8(ascii: ":"), parts.minute), (UInt8(ascii: ":"), parts.second),
        ]
        for (mark, value) in marks {
            bytes.append(mark)
            digits(UInt64(value), width: 2)
        }
        bytes += "+08:00".utf8
    }
}

/// Times of the synthetic day: whole seconds, Beijing.
public enum SyntheticTime {
    /// `2026-11-23T09:15:07+08:00` for an instant in µs since 1970 (whole seconds).
    public static func iso(_ microseconds: Int64) -> String {
        let local = LocalTime.beijingSeconds(atMicroseconds: microseconds)
        var text = LocalTime.text(local)
        text.replace(" ", with: "T")
        return text + "+08:00"
    }

    /// The instant of a Beijing wall time on `day`, µs since 1970.
    public static func instant(_ day: LocalDay, seconds: Int64) -> Int64 {
        (Int64(day.dayNumber) * 86_400 - LocalTime.beijingOffsetSeconds + seconds) * 1_000_000
    }
}
