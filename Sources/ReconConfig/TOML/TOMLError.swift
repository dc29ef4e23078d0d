/// A problem in a TOML file, located so an operator can jump to it: `jobs/daily.toml:12:5: …`.
///
/// Both the parser (syntax, duplicate keys) and `TOMLTableReader` (missing, unknown and
/// mistyped keys) throw this, so every config error reads the same way.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file name as given to the parser, e.g. `jobs/daily.toml`.
    public let file: String
    /// 1-based line.
    public let line: Int
    /// 1-based column in Unicode scalars; nil when the problem is a whole line or table.
    public let column: Int?
    /// What is wrong, naming the full dotted key path where there is one.
    public let message: String

    public init(file: String, line: Int, column: Int?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `FILE:LINE:COL: message`, the form compilers use and editors can follow.
    public var description: String {
        if let column {
            return "\(file):\(line):\(column): \(message)"
        }
        return "\(file):\(line): \(message)"
    }
}
