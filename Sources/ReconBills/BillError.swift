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
