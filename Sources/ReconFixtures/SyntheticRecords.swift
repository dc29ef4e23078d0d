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
    public var csvLine: String {
        [
            orderID, legID, businessSystem, merchantID, kind.rawValue, channel ?? "", channelTransactionID ?? "",
            refundID ?? "", direction.rawValue, Money.yuanText(fen: Int64(amountFen.magnitude)),
            Money.yuanText(fen: Int64(feeFen.magnitude)), status.rawValue, SyntheticTime.iso(occurredAtMicroseconds),
        ].joined(separator: ",")
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

    public var csvLine: String {
        [
            entryID, accountID, asset.rawValue, legID, Money.yuanText(fen: amountFen),
            SyntheticTime.iso(occurredAtMicroseconds),
        ].joined(separator: ",")
    }
}

/// Writes a text file line by line (UTF-8, LF) to a sink in chunks of about 64 KiB: the payments
/// and ledger files, whose header is written first.
public struct SyntheticCSVWriter {
    private var out: BillByteSinkLF

    public init(header: String, sink: @escaping ([UInt8]) throws -> Void) throws {
        out = BillByteSinkLF(sink: sink)
        try out.line(header)
    }

    public mutating func append(_ line: String) throws { try out.line(line) }

    public mutating func finish() throws { try out.flush() }
}

/// `BillByteSink`'s chunking with LF line ends, for the payment center's own files.
struct BillByteSinkLF {
    private let sink: ([UInt8]) throws -> Void
    private var buffer: [UInt8] = []

    init(sink: @escaping ([UInt8]) throws -> Void) { self.sink = sink }

    mutating func line(_ text: String) throws {
        buffer += text.utf8
        buffer.append(10)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try sink(buffer)
        buffer.removeAll(keepingCapacity: true)
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
