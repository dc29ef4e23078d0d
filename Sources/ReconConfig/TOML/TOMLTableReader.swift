/// Typed, checked access to one table of a parsed config file, for the code that turns job
/// files into jobs.
///
/// It remembers which keys were read, so `finish()` can reject the rest: a misspelt
/// `retry.max_atempts` is an error with its line, not a setting silently ignored. Every error
/// names the file, the line and the full dotted key path (`channel.alipay.retry.base`).
///
/// A class because reads are recorded through any reference to it; tables reached through
/// `table(_:)` and `tableArray(_:)` are remembered too, so `finish()` on the root checks the
/// whole file.
public final class TOMLTableReader {
    public let table: TOMLTable
    /// The file name for messages.
    public let file: String
    /// The table's dotted path from the root, empty for the root itself.
    public let path: String
    /// Where the table was defined (line 1, column 1 for the root).
    public let line: Int
    public let column: Int
    private var readKeys: Set<String> = []
    /// Readers handed out for sub-tables, by path, so asking twice gives the same reader and a
    /// key read through either counts.
    private var children: [String: TOMLTableReader] = [:]
    private var childOrder: [String] = []

    public init(_ table: TOMLTable, file: String, path: String = "", line: Int = 1, column: Int = 1) {
        self.table = table
        self.file = file
        self.path = path
        self.line = line
        self.column = column
    }

    /// Parses `text` and reads its root table.
    public convenience init(parsing text: String, file: String) throws(TOMLError) {
        self.init(try TOML.parse(text, file: file), file: file)
    }

    /// The full dotted path of `key` in this table, as messages spell it.
    public func keyPath(_ key: String) -> String {
        TOMLKeyPath.appending(key, to: path)
    }

    /// Whether the key is present (without counting it as read).
    public func contains(_ key: String) -> Bool {
        table[key] != nil
    }

    /// The raw node, counted as read; nil when absent.
    public func node(_ key: String) -> TOMLNode? {
        readKeys.insert(key)
        return table[key]
    }

    /// An error at `key`'s position (or at the table when the key is absent), for checks the
    /// caller makes on a value: `reader.error(at: "cron", "`cron`: \(cronError)")`.
    public func error(at key: String, _ message: String) -> TOMLError {
        if let node = table[key] {
            return TOMLError(file: file, line: node.line, column: node.column, message: message)
        }
        return TOMLError(file: file, line: line, column: column, message: message)
    }

    // MARK: Scalars

    public func string(_ key: String) throws(TOMLError) -> String {
        try required(key, try optionalString(key))
    }

    public func optionalString(_ key: String) throws(TOMLError) -> String? {
        guard let node = node(key) else { return nil }
        guard case .string(let value) = node.value else { throw mistyped(key, node, expected: "a string") }
        return value
    }

    public func int64(_ key: String) throws(TOMLError) -> Int64 {
        try required(key, try optionalInt64(key))
    }

    public func optionalInt64(_ key: String) throws(TOMLError) -> Int64? {
        guard let node = node(key) else { return nil }
        guard case .integer(let value) = node.value else { throw mistyped(key, node, expected: "an integer") }
        return value
    }

    public func int(_ key: String) throws(TOMLError) -> Int {
        try required(key, try optionalInt(key))
    }

    public func optionalInt(_ key: String) throws(TOMLError) -> Int? {
        guard let value = try optionalInt64(key) else { return nil }
        guard let result = Int(exactly: value) else {
            throw error(at: key, "`\(keyPath(key))` is too large for this platform: \(value)")
        }
        return result
    }

    /// An integer that must lie in `range`: "`retry.max_attempts` must be between 1 and 100, found 0".
    public func int(_ key: String, in range: ClosedRange<Int>) throws(TOMLError) -> Int {
        let value = try int(key)
        try check(key, value, in: range)
        return value
    }

    public func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(TOMLError) -> Int? {
        guard let value = try optionalInt(key) else { return nil }
        try check(key, value, in: range)
        return value
    }

    public func bool(_ key: String) throws(TOMLError) -> Bool {
        try required(key, try optionalBool(key))
    }

    public func optionalBool(_ key: String) throws(TOMLError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard case .bool(let value) = node.value else { throw mistyped(key, node, expected: "a boolean") }
        return value
    }

    // MARK: Compound values

    /// A sub-table (a `[header]`, dotted keys or an inline table), itself checked by `finish()`.
    public func table(_ key: String) throws(TOMLError) -> TOMLTableReader {
        try required(key, try optionalTable(key))
    }

    public func optionalTable(_ key: String) throws(TOMLError) -> TOMLTableReader? {
        guard let node = node(key) else { return nil }
        guard case .table(let value) = node.value else { throw mistyped(key, node, expected: "a table") }
        return child(value, path: keyPath(key), at: node)
    }

    public func array(_ key: String) throws(TOMLError) -> [TOMLNode] {
        try required(key, try optionalArray(key))
    }

    public func optionalArray(_ key: String) throws(TOMLError) -> [TOMLNode]? {
        guard let node = node(key) else { return nil }
        guard case .array(let value) = node.value else { throw mistyped(key, node, expected: "an array") }
        return value
    }

    /// An array whose elements are all strings.
    public func stringArray(_ key: String) throws(TOMLError) -> [String] {
        try required(key, try optionalStringArray(key))
    }

    public func optionalStringArray(_ key: String) throws(TOMLError) -> [String]? {
        guard let elements = try optionalArray(key) else { return nil }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let value) = element.value else {
                throw TOMLError(
                    file: file, line: element.line, column: element.column,
                    message: "`\(TOMLKeyPath.element(index, of: keyPath(key)))` must be a string, "
                        + "found \(element.value.typeName)")
            }
            result.append(value)
        }
        return result
    }

    /// An array of tables (`[[job]]`, or an array of inline tables), one reader per element.
    public func tableArray(_ key: String) throws(TOMLError) -> [TOMLTableReader] {
        try required(key, try optionalTableArray(key))
    }

    public func optionalTableArray(_ key: String) throws(TOMLError) -> [TOMLTableReader]? {
        guard let elements = try optionalArray(key) else { return nil }
        var result: [TOMLTableReader] = []
        for (index, element) in elements.enumerated() {
            let elementPath = TOMLKeyPath.element(index, of: keyPath(key))
            guard case .table(let value) = element.value else {
                throw TOMLError(
                    file: file, line: element.line, column: element.column,
                    message: "`\(elementPath)` must be a table, found \(element.value.typeName)")
            }
            result.append(child(value, path: elementPath, at: element))
        }
        return result
    }

    // MARK: Unknown keys

    /// Throws for the first key (in file order) that nothing read, here or in any table reached
    /// through this reader: "unknown key `channel.alipay.retyr`".
    public func finish() throws(TOMLError) {
        let unknown = unreadKeys().sorted { ($0.line, $0.column) < ($1.line, $1.column) }
        guard let first = unknown.first else { return }
        var message = "unknown key `\(first.path)`"
        if unknown.count > 1 {
            let others = unknown.dropFirst().prefix(3).map { "`\($0.path)` (line \($0.line))" }
            let more = unknown.count > 4 ? ", …" : ""
            message += "; also unknown: \(others.joined(separator: ", "))\(more)"
        }
        throw TOMLError(file: file, line: first.line, column: first.column, message: message)
    }

    private func unreadKeys() -> [(path: String, line: Int, column: Int)] {
        var result: [(path: String, line: Int, column: Int)] = []
        for (key, node) in table.entries where !readKeys.contains(key) {
            result.append((keyPath(key), node.line, node.column))
        }
        for path in childOrder {
            result += children[path]?.unreadKeys() ?? []
        }
        return result
    }

    private func child(_ table: TOMLTable, path: String, at node: TOMLNode) -> TOMLTableReader {
        if let existing = children[path] {
            return existing
        }
        let reader = TOMLTableReader(table, file: file, path: path, line: node.line, column: node.column)
        children[path] = reader
        childOrder.append(path)
        return reader
    }

    // MARK: Errors

    private func required<Value>(_ key: String, _ value: Value?) throws(TOMLError) -> Value {
        guard let value else {
            throw TOMLError(file: file, line: line, column: column, message: "missing key `\(keyPath(key))`")
        }
        return value
    }

    private func mistyped(_ key: String, _ node: TOMLNode, expected: String) -> TOMLError {
        TOMLError(
            file: file, line: node.line, column: node.column,
            message: "`\(keyPath(key))` must be \(expected), found \(node.value.typeName)")
    }

    private func check(_ key: String, _ value: Int, in range: ClosedRange<Int>) throws(TOMLError) {
        guard range.contains(value) else {
            throw error(
                at: key,
                "`\(keyPath(key))` must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
        }
    }
}
