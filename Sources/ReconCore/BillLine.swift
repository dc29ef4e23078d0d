/// One line of a channel's bill in the shape every adapter produces (CHANNELS.md §0).
public struct BillLine: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case payment, refund
    }

    public var channel: String
    /// The bill's date, `YYYY-MM-DD`.
    public var billDate: LocalDay
    public var channelTransactionID: String
    public var merchantOrderID: String?
    public var refundID: String?
    public var kind: Kind
    /// Signed fen: payments positive, refunds negative.
    public var amountFen: Int64
    /// Fen charged to us positive, given back negative.
    public var feeFen: Int64
    public var channelStatus: String?
    /// Microseconds since 1970 (the bill's local time with its offset applied).
    public var timeMicroseconds: Int64
    /// The line in the bill file it came from, for every message about it.
    public var lineNumber: Int

    public init(
        channel: String, billDate: LocalDay, channelTransactionID: String, merchantOrderID: String?, refundID: String?,
        kind: Kind, amountFen: Int64, feeFen: Int64, channelStatus: String?, timeMicroseconds: Int64, lineNumber: Int
    ) {
        self.channel = channel
        self.billDate = billDate
        self.channelTransactionID = channelTransactionID
        self.merchantOrderID = merchantOrderID
        self.refundID = refundID
        self.kind = kind
        self.amountFen = amountFen
        self.feeFen = feeFen
        self.channelStatus = channelStatus
        self.timeMicroseconds = timeMicroseconds
        self.lineNumber = lineNumber
    }
}

/// A bill refused while parsing or verifying: the file, the line and column, the check, and why.
/// A bill with one of these is never staged.
public struct BillError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: String?
    public var check: String
    public var reason: String

    public init(file: String, line: Int?, column: String?, check: String, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.check = check
        self.reason = reason
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += " column \(column)" }
        return "\(place): \(check): \(reason)"
    }
}
