/// A TOML value. Dates and times are not among the cases: the parser rejects them, since job
/// files write times as strings and a half-supported date type would only mislead.
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    /// The parsed number and the text as written, so a message can quote it exactly. Recon never
    /// uses floats for money (amounts are integer fen).
    case float(Double, text: String)
    case bool(Bool)
    case array([TOMLNode])
    case table(TOMLTable)

    /// The TOML type name, for messages such as "must be an integer, found string".
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .bool: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var integerValue: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    public var doubleValue: Double? {
        if case .float(let value, _) = self { value } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    public var arrayValue: [TOMLNode]? {
        if case .array(let value) = self { value } else { nil }
    }

    public var tableValue: TOMLTable? {
        if case .table(let value) = self { value } else { nil }
    }
}

/// A value together with where it was written, so that checks made long after parsing (an
/// unknown channel name, a cron field out of range) can still point at the right line.
///
/// For a key's value the position is the key's; for a table it is its header (or the first key
/// that implied it); for an array element it is the element's own.
public struct TOMLNode: Sendable, Equatable {
    public var value: TOMLValue
    /// 1-based line.
    public var line: Int
    /// 1-based column, in Unicode scalars.
    public var column: Int

    public init(value: TOMLValue, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }
}
