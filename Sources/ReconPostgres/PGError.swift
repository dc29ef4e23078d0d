/// Every failure of the PostgreSQL layer.
///
/// It names the statement (by the caller's name for it, or its SQL text) and carries the server's
/// SQLSTATE, message, detail and hint. It never carries the statement's parameters or the
/// connection string: either may hold a secret.
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, independent of the server's SQLSTATE.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }

        /// Could not open a connection (server down, bad host, authentication).
        public static let connectionFailed = Code(raw: "connection failed")
        /// The connection broke while in use.
        public static let connectionLost = Code(raw: "connection lost")
        /// The server rejected a statement; `sqlState` says why.
        public static let serverError = Code(raw: "server error")
        /// The server answered in a way this layer did not expect (e.g. no COPY state after COPY).
        public static let unexpectedResult = Code(raw: "unexpected result")
        /// A column could not be decoded as the requested Swift type.
        public static let decodingFailed = Code(raw: "decoding failed")
        /// The pool was closed while waiting for, or before asking for, a connection.
        public static let poolClosed = Code(raw: "pool closed")
        /// A caller misused the API (e.g. nested transactions); a programming error, not a data error.
        public static let misuse = Code(raw: "misuse")
    }

    public var code: Code
    public var message: String
    /// Five-character SQLSTATE from the server, e.g. "23505" for a unique violation.
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    /// The statement's name: the caller's label, or the start of its SQL text. Never parameters.
    public var statement: String?

    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        statement: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.statement = statement
    }

    /// True when the connection itself is gone (SQLSTATE class 08, admin shutdown, or lost socket).
    public var isConnectionFailure: Bool {
        if code == .connectionFailed || code == .connectionLost { return true }
        guard let state = sqlState else { return false }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }

    /// True when the same transaction, run again, may succeed: the server chose it as a deadlock's
    /// victim (SQLSTATE 40P01) or refused it as a serialization failure (40001), or the connection
    /// went away (`isConnectionFailure`). Everything else (a constraint, a type, a statement's own
    /// mistake) fails the same way the next time.
    public var isTransient: Bool {
        sqlState == Self.deadlockDetected || sqlState == Self.serializationFailure || isConnectionFailure
    }

    /// SQLSTATE 40P01: this transaction was chosen to break a deadlock.
    public static let deadlockDetected = "40P01"
    /// SQLSTATE 40001: a concurrent transaction's changes make this one's impossible to serialize.
    public static let serializationFailure = "40001"
    /// SQLSTATE 23505: a row would repeat a unique index's key.
    public static let uniqueViolation = "23505"
    /// SQLSTATE 25006: a write in a READ ONLY transaction.
    public static let readOnlyTransaction = "25006"

    public var description: String {
        var text = "PostgreSQL \(code)"
        if let statement { text += " in \(statement)" }
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        // A constraint violation's detail repeats the row's values ("Key (k)=(…) already exists"),
        // which may be anything a caller stored; code can read `detail`, logs don't get it.
        if let detail, sqlState?.hasPrefix("23") != true { text += " (detail: \(detail))" }
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}

/// A short label for a statement that has no explicit name: its SQL text on one line, cut at 80 characters.
func statementLabel(_ sql: String) -> String {
    var label = ""
    var lastWasSpace = false
    for character in sql {
        if character.isWhitespace {
            if !lastWasSpace && !label.isEmpty { label.append(" ") }
            lastWasSpace = true
        } else {
            label.append(character)
            lastWasSpace = false
        }
        if label.count >= 80 { return label + "…" }
    }
    return label.hasSuffix(" ") ? String(label.dropLast()) : label
}
