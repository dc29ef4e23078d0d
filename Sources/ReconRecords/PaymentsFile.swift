public import ReconMatching

/// One row of a payments file: one leg of one order (issue 12, §1). Amounts and fees are kept
/// signed here (a refund's negative); the file writes magnitudes.
public struct PaymentLegRecord: Sendable, Equatable {
    public var orderID: String
    public var legID: String
    public var businessSystem: String
    public var merchantID: String
    public var kind: LegKind
    /// The `[[channel]]` name; nil for a virtual-account leg.
    public var channel: String?
    public var channelTransactionID: String?
    public var refundID: String?
    public var direction: LegDirection
    public var amountFen: Int64
    public var feeFen: Int64
    public var status: LegStatus
    public var occurredAtMicroseconds: Int64
    /// The line of the file it came from.
    public var line: Int
    /// What the leg meets a bill line on; nil for a virtual leg.
    public var key: MatchKey?

    public init(
        orderID: String, legID: String, businessSystem: String, merchantID: String, kind: LegKind, channel: String?,
        channelTransactionID: String?, refundID: String?, direction: LegDirection, amountFen: Int64, feeFen: Int64,
        status: LegStatus, occurredAtMicroseconds: Int64, line: Int, key: MatchKey?
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
        self.line = line
        self.key = key
    }
}

/// `order_id,leg_id,business_system,merchant_id,leg_kind,channel,channel_txn_id,refund_id,direction,amount,fee,status,occurred_at`,
/// exactly: a header line, UTF-8, amounts in yuan with at most two decimals.
public struct PaymentsFile: Sendable {
    public static let header = [
        "order_id", "leg_id", "business_system", "merchant_id", "leg_kind", "channel", "channel_txn_id", "refund_id",
        "direction", "amount", "fee", "status", "occurred_at",
    ]

    /// The configured channels by name, with how each keys its refunds.
    public let channels: [String: KeyRule]

    public init(channels: [String: KeyRule]) { self.channels = channels }

    public static func checkHeader(_ fields: [[UInt8]], line: Int) throws(RecordProblem) {
        try ReconRecords.checkHeader(fields, expected: header, line: line)
    }

    public func record(_ fields: [[UInt8]], line: Int) throws(RecordProblem) -> PaymentLegRecord {
        guard fields.count == Self.header.count else {
            throw RecordProblem(
                line: line, column: nil, message: "\(fields.count) fields, the header has \(Self.header.count)")
        }
        let row = FieldReader(fields: fields, header: Self.header, line: line)
        let kind = try row.word(4, as: LegKind.self)
        let direction = try row.word(8, as: LegDirection.self)
        var channel = try row.optional(5)
        var transactionID = try row.optional(6)
        let refundID = try row.optional(7)
        var key: MatchKey?
        if kind == .channel {
            guard let name = channel else { throw row.problem(5, "is empty: a channel leg names its channel") }
            guard let rule = channels[name] else {
                let known = channels.keys.sorted().joined(separator: ", ")
                throw row.problem(5, "\"\(name)\" is not a configured channel (the job files have: \(known))")
            }
            guard let id = transactionID else {
                throw row.problem(6, "is empty: a channel leg carries the channel's transaction id")
            }
            if direction == .refund, rule.refundsCarryRefundID, refundID == nil {
                throw row.problem(7, "is empty: a \(name) refund is told apart by the refund request id we sent")
            }
            key = MatchKey(transactionID: id, refundID: refundID, isRefund: direction == .refund, rule: rule)
        } else {
            if channel != nil { throw row.problem(5, "must be empty for a \(kind.rawValue) leg") }
            if transactionID != nil { throw row.problem(6, "must be empty for a \(kind.rawValue) leg") }
            (channel, transactionID) = (nil, nil)
        }
        if direction == .payment, refundID != nil { throw row.problem(7, "must be empty on a payment") }
        let fee = try row.yuan(10, signed: false, emptyAs: 0)
        return PaymentLegRecord(
            orderID: try row.required(0), legID: try row.required(1), businessSystem: try row.required(2),
            merchantID: try row.required(3), kind: kind, channel: channel, channelTransactionID: transactionID,
            refundID: refundID, direction: direction, amountFen: direction.signed(try row.yuan(9, signed: false)),
            feeFen: direction.signed(fee), status: try row.word(11, as: LegStatus.self),
            occurredAtMicroseconds: try row.instant(12), line: line, key: key)
    }
}

/// One movement of a virtual account (issue 12, §1), signed as the leg moves it.
public struct LedgerEntryRecord: Sendable, Equatable {
    public var entryID: String
    public var accountID: String
    public var asset: LegKind
    public var legID: String
    public var amountFen: Int64
    public var occurredAtMicroseconds: Int64
    public var line: Int

    public init(
        entryID: String, accountID: String, asset: LegKind, legID: String, amountFen: Int64,
        occurredAtMicroseconds: Int64, line: Int
    ) {
        self.entryID = entryID
        self.accountID = accountID
        self.asset = asset
        self.legID = legID
        self.amountFen = amountFen
        self.occurredAtMicroseconds = occurredAtMicroseconds
        self.line = line
    }
}

/// `entry_id,account_id,asset,leg_id,amount,occurred_at`, exactly; `amount` signed yuan-equivalent
/// (1 point = 0.01 yuan).
public enum LedgerFile {
    public static let header = ["entry_id", "account_id", "asset", "leg_id", "amount", "occurred_at"]

    public static func checkHeader(_ fields: [[UInt8]], line: Int) throws(RecordProblem) {
        try ReconRecords.checkHeader(fields, expected: header, line: line)
    }

    public static func record(_ fields: [[UInt8]], line: Int) throws(RecordProblem) -> LedgerEntryRecord {
        guard fields.count == header.count else {
            throw RecordProblem(
                line: line, column: nil, message: "\(fields.count) fields, the header has \(header.count)")
        }
        let row = FieldReader(fields: fields, header: header, line: line)
        let asset = try row.word(2, as: LegKind.self)
        guard asset.isVirtual else {
            throw row.problem(2, "\"channel\" is not a virtual-account asset (pre_deposit, points, data_traffic)")
        }
        return LedgerEntryRecord(
            entryID: try row.required(0), accountID: try row.required(1), asset: asset, legID: try row.required(3),
            amountFen: try row.yuan(4, signed: true), occurredAtMicroseconds: try row.instant(5), line: line)
    }
}
