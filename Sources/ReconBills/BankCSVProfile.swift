public import ReconCore

/// How one `bank_csv` channel writes its file (CHANNELS.md §4): every key of that table except the
/// transport ones (URL, auth, compression, hash sidecar), which the fetcher reads.
public struct BankCSVProfile: Sendable, Equatable {
    /// A column by header name, or by 0-based position (files without a header).
    public enum Column: Sendable, Equatable, CustomStringConvertible {
        case name(String)
        case index(Int)

        public var description: String {
            switch self {
            case .name(let name): name
            case .index(let index): "index \(index)"
            }
        }
    }

    /// Our fields and where the file has them; `txn_id`, `amount` and `time` are required.
    /// `currency` is our addition to §4's list: when mapped, every line must say CNY.
    public struct Columns: Sendable, Equatable {
        public var txnID: Column
        public var amount: Column
        public var time: Column
        public var orderID: Column?
        public var refundID: Column?
        public var kind: Column?
        public var fee: Column?
        public var status: Column?
        public var currency: Column?

        public init(
            txnID: Column, amount: Column, time: Column, orderID: Column? = nil, refundID: Column? = nil,
            kind: Column? = nil, fee: Column? = nil, status: Column? = nil, currency: Column? = nil
        ) {
            self.txnID = txnID
            self.amount = amount
            self.time = time
            self.orderID = orderID
            self.refundID = refundID
            self.kind = kind
            self.fee = fee
            self.status = status
            self.currency = currency
        }

        /// Every mapped column with its config key, in a fixed order.
        public var all: [(key: String, column: Column)] {
            let optional: [(String, Column?)] = [
                ("order_id", orderID), ("refund_id", refundID), ("kind", kind), ("fee", fee), ("status", status),
                ("currency", currency),
            ]
            return [("txn_id", txnID), ("amount", amount), ("time", time)]
                + optional.compactMap { key, column in column.map { (key, $0) } }
        }
    }

    public enum AmountUnit: String, Sendable, Equatable, CaseIterable {
        /// Decimal yuan, at most 2 places, parsed exactly.
        case yuan
        /// A whole number of fen.
        case fen
    }

    /// How refunds are written: `negative` (< 0), `positive` (> 0, we negate) or `absolute` (the
    /// written sign is ignored and the kind decides).
    public enum RefundSign: String, Sendable, Equatable, CaseIterable {
        case negative, positive, absolute
    }

    public enum FeeSign: String, Sendable, Equatable, CaseIterable {
        case chargedPositive = "charged_positive"
        case chargedNegative = "charged_negative"
    }

    /// A setting the parser cannot follow, by config key: "`delimiter` must be one of …".
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var key: String
        public var message: String
        public var description: String { "\(key): \(message)" }
    }

    public static let defaultTrailerPattern = #"^#TOTAL,(?<count>\d+),(?<sum>-?[\d.]+),(?<fee>-?[\d.]+)$"#

    public var encoding: TextEncoding
    public var delimiter: UInt8
    /// Nil: no quoting, every byte but the delimiter and line ends is data.
    public var quote: UInt8?
    /// Preamble lines before the header (or the first data line), skipped unread.
    public var skipLines: Int
    /// Lines starting with this are skipped anywhere, except one that matches the trailer.
    public var commentPrefix: String?
    public var header: Bool
    public var columns: Columns
    /// The kind column's values; empty means the values are `payment` and `refund` themselves.
    /// Without a kind column the sign of the amount decides.
    public var kindMap: [String: BillLine.Kind]
    public var amountUnit: AmountUnit
    public var refundSign: RefundSign
    /// The fee is in `amountUnit` too.
    public var feeSign: FeeSign
    public var timeFormat: BankCSVTimeFormat
    public var timeZone: UTCOffset
    /// If set, the file must end with a line this matches; its count, sum and fee are checked
    /// against the lines as written (in the file's own unit and signs).
    public var trailer: BankCSVTrailer?

    public init(
        columns: Columns, encoding: TextEncoding = .utf8, delimiter: UInt8 = UInt8(ascii: ","),
        quote: UInt8? = UInt8(ascii: "\""), skipLines: Int = 0, commentPrefix: String? = "#", header: Bool = true,
        kindMap: [String: BillLine.Kind] = [:], amountUnit: AmountUnit = .yuan, refundSign: RefundSign = .negative,
        feeSign: FeeSign = .chargedPositive, timeFormat: BankCSVTimeFormat = .standard,
        timeZone: UTCOffset = .beijing, trailer: BankCSVTrailer? = nil
    ) {
        self.encoding = encoding
        self.delimiter = delimiter
        self.quote = quote
        self.skipLines = skipLines
        self.commentPrefix = commentPrefix
        self.header = header
        self.columns = columns
        self.kindMap = kindMap
        self.amountUnit = amountUnit
        self.refundSign = refundSign
        self.feeSign = feeSign
        self.timeFormat = timeFormat
        self.timeZone = timeZone
        self.trailer = trailer
    }

    /// `recon-bank-v1`, the default profile the mock serves: UTF-8, comma, yuan, refunds
    /// negative, fee positive when charged, Beijing time, `#TOTAL` trailer required.
    public static let reconBankV1 = BankCSVProfile(
        columns: Columns(
            txnID: .name("channel_txn_id"), amount: .name("amount"), time: .name("txn_time"),
            orderID: .name("merchant_order_id"), refundID: .name("refund_id"), kind: .name("kind"), fee: .name("fee"),
            status: .name("status"), currency: .name("currency")),
        trailer: .standard)

    public static let delimiters: [UInt8] = [UInt8(ascii: ","), 9, UInt8(ascii: ";"), UInt8(ascii: "|")]

    /// The first combination of settings the parser cannot follow, or nil.
    public func problem() -> Problem? {
        if !Self.delimiters.contains(delimiter) {
            return Problem(key: "delimiter", message: "must be one of \",\", \"\\t\", \";\", \"|\"")
        }
        if !encoding.isAlwaysASCII(delimiter) {
            return Problem(
                key: "delimiter",
                message: "\"\(Character(Unicode.Scalar(delimiter)))\" cannot be used with \(encoding.name): "
                    + "it is also a byte inside \(encoding.name) characters")
        }
        if let quote, quote == delimiter || quote >= 0x80 || !encoding.isAlwaysASCII(quote) {
            return Problem(
                key: "quote",
                message: "must be an ASCII character other than the delimiter, below 0x30 for \(encoding.name)")
        }
        if !header, let named = columns.all.first(where: { if case .name = $0.column { true } else { false } }) {
            return Problem(
                key: "columns", message: "`\(named.key)` names a column but header = false: use a 0-based index")
        }
        if columns.kind == nil && refundSign != .negative {
            return Problem(
                key: "refund_sign",
                message: "\(refundSign.rawValue) needs a kind column: without one only a negative amount marks a refund"
            )
        }
        if columns.kind == nil && !kindMap.isEmpty {
            return Problem(key: "kind_map", message: "is set but `columns.kind` is not")
        }
        return nil
    }
}
