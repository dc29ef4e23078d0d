/// A bill refused while parsing or verifying: the file, the line and column, the check, and why.
/// A bill with one of these is never staged.
public struct BillError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: String?
    public var check: String
    public var reason: String
    /// The whole bill was read and it contradicts its own totals: a trailer, footer or summary that
    /// disagrees with the lines. The channel published the file so, and a fresh download gives the
    /// same bytes, so the fetch is dead at once. Any other refusal (a cut line, a missing trailer, a
    /// broken encoding) may come from a damaged transfer and is worth another download.
    public var contradictsItsTotals: Bool

    public init(
        file: String, line: Int?, column: String?, check: String, reason: String, contradictsItsTotals: Bool = false
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.check = check
        self.reason = reason
        self.contradictsItsTotals = contradictsItsTotals
    }

    /// This refusal, marked as the bill contradicting its own totals.
    public var contradictingTotals: BillError {
        var error = self
        error.contradictsItsTotals = true
        return error
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += " column \(column)" }
        return "\(place): \(check): \(reason)"
    }
}
