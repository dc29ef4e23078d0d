public import ReconCore

/// Where settled money is summed (issue 12, §4 settle): per business system, merchant and channel;
/// a virtual asset stands in the channel column.
public struct SettlementKey: Hashable, Sendable, Comparable {
    public var businessSystem: String
    public var merchantID: String
    public var channel: String

    public init(businessSystem: String, merchantID: String, channel: String) {
        self.businessSystem = businessSystem
        self.merchantID = merchantID
        self.channel = channel
    }

    private var columns: [MatchKey] {
        [
            MatchKey(transactionID: businessSystem), MatchKey(transactionID: merchantID),
            MatchKey(transactionID: channel),
        ]
    }

    /// Equal bytes, as the database groups them.
    public static func == (lhs: SettlementKey, rhs: SettlementKey) -> Bool { lhs.columns == rhs.columns }

    public func hash(into hasher: inout Hasher) { hasher.combine(columns) }

    /// Byte order of each column in turn, so the settlement file's row order never depends on a
    /// locale.
    public static func < (lhs: SettlementKey, rhs: SettlementKey) -> Bool {
        lhs.columns.lexicographicallyPrecedes(rhs.columns)
    }
}

/// The settled sums of one `SettlementKey`, in fen. `refunds` is positive; `fees` is what the
/// channel charged minus what it gave back; `net = gross − refunds − fees`.
public struct SettlementTotals: Sendable, Equatable {
    public var count: Int64 = 0
    public var grossFen: Int64 = 0
    public var refundsFen: Int64 = 0
    public var feesFen: Int64 = 0

    public init() {}

    public init(count: Int64, grossFen: Int64, refundsFen: Int64, feesFen: Int64) {
        self.count = count
        self.grossFen = grossFen
        self.refundsFen = refundsFen
        self.feesFen = feesFen
    }

    public var netFen: Int64 { grossFen - refundsFen - feesFen }

    /// One settled item: its signed amount (a refund negative) and signed fee.
    public mutating func add(amountFen: Int64, feeFen: Int64) {
        count += 1
        if amountFen >= 0 { grossFen += amountFen } else { refundsFen += -amountFen }
        feesFen += feeFen
    }

    /// Only matched items that moved money on both sides are settled; discrepancies are listed
    /// beside the settlement, never silently included, and a failed leg that is rightly absent
    /// from the bill moved nothing.
    public static func settles(_ status: MatchStatus, legStatus: LegStatus?, channelMovedMoney: Bool?) -> Bool {
        status == .matched && legStatus == .success && channelMovedMoney == true
    }
}

/// The settlement CSV, exactly: `business_system,merchant_id,channel,count,gross,refunds,fees,net`,
/// amounts in yuan with two decimals, rows in key order.
public enum SettlementCSV {
    public static let header = "business_system,merchant_id,channel,count,gross,refunds,fees,net"

    public static func row(_ key: SettlementKey, _ totals: SettlementTotals) -> String {
        [
            CSVText.field(key.businessSystem), CSVText.field(key.merchantID), CSVText.field(key.channel),
            String(totals.count), Money.yuanText(fen: totals.grossFen), Money.yuanText(fen: totals.refundsFen),
            Money.yuanText(fen: totals.feesFen), Money.yuanText(fen: totals.netFen),
        ].joined(separator: ",")
    }

    /// The whole file, a header and one line per key, each ending in `\n`.
    public static func text(_ rows: [SettlementKey: SettlementTotals]) -> String {
        var text = header + "\n"
        for key in rows.keys.sorted() {
            if let totals = rows[key] { text += row(key, totals) + "\n" }
        }
        return text
    }
}
