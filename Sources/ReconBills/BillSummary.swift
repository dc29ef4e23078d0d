/// Counts and sums of one parsed bill, plus the totals the bill declared about itself, for the
/// finalize step and the discrepancy report.
public struct BillSummary: Sendable, Equatable {
    /// Data lines emitted.
    public var lines: Int64
    public var payments: Int64
    public var refunds: Int64
    /// Σ signed amounts in fen.
    public var amountFen: Int64
    /// Σ fees in fen (after rounding, for WeChat).
    public var feeFen: Int64
    /// Lines emitted with a `flag`.
    public var flagged: Int64
    /// WeChat only: Σ exact fees in 1e-5 yuan minus Σ rounded fees × 1000; 0 elsewhere.
    public var feeRoundingUnits: Int64
    /// The bill's own totals as checked (trailer, footers, totals line), in words; nil if it has none.
    public var declaredTotals: String?

    public init(
        lines: Int64 = 0, payments: Int64 = 0, refunds: Int64 = 0, amountFen: Int64 = 0, feeFen: Int64 = 0,
        flagged: Int64 = 0, feeRoundingUnits: Int64 = 0, declaredTotals: String? = nil
    ) {
        self.lines = lines
        self.payments = payments
        self.refunds = refunds
        self.amountFen = amountFen
        self.feeFen = feeFen
        self.flagged = flagged
        self.feeRoundingUnits = feeRoundingUnits
        self.declaredTotals = declaredTotals
    }

    /// Counts one emitted line.
    public mutating func count(_ line: BillLine) {
        lines += 1
        if line.kind == .payment { payments += 1 } else { refunds += 1 }
        amountFen &+= line.amountFen
        feeFen &+= line.feeFen
        if line.flag != nil { flagged += 1 }
    }
}
