/// A table while its document is being parsed: mutable, shared by reference so that a header
/// can reopen a table created earlier, and aware of how it was created, because TOML's rules
/// against redefinition depend on that.
final class TOMLTableBuilder {
    /// How a table came to exist.
    enum Origin {
        /// Defined by its own `[header]` (or the document root); cannot be defined again.
        case header
        /// Created as a parent of a header (`[a]` by `[a.b]`); may later get its own header once.
        case implicit
        /// Created by a dotted key (`a.b = 1` creates `a`); only more dotted keys may extend it.
        case dotted
        /// An inline table `{ … }`, complete once written.
        case inline
    }

    enum Entry {
        case value(TOMLNode)
        case table(TOMLTableBuilder)
        case tableArray(TOMLTableArrayBuilder)

        /// Where the entry was first defined, for "first defined at line N".
        var line: Int {
            switch self {
            case .value(let node): node.line
            case .table(let table): table.line
            case .tableArray(let array): array.line
            }
        }
    }

    var origin: Origin
    /// The table's dotted path from the root, as messages spell it.
    let path: String
    var line: Int
    var column: Int
    private var order: [String] = []
    private var entries: [String: Entry] = [:]

    init(origin: Origin, path: String, line: Int, column: Int) {
        self.origin = origin
        self.path = path
        self.line = line
        self.column = column
    }

    subscript(key: String) -> Entry? {
        entries[key]
    }

    /// Adds a new key; callers have checked that it is not there yet.
    func add(_ key: String, _ entry: Entry) {
        if entries.updateValue(entry, forKey: key) == nil {
            order.append(key)
        }
    }

    /// The finished, immutable table.
    func build() -> TOMLTable {
        var table = TOMLTable()
        for key in order {
            switch entries[key] {
            case .value(let node):
                table.set(key, node)
            case .table(let child):
                table.set(key, child.node())
            case .tableArray(let array):
                let elements = array.tables.map { $0.node() }
                table.set(key, TOMLNode(value: .array(elements), line: array.line, column: array.column))
            case nil:
                break
            }
        }
        return table
    }

    private func node() -> TOMLNode {
        TOMLNode(value: .table(build()), line: line, column: column)
    }
}

/// An array of tables (`[[job]]`), which later headers append to. Never empty: it is created
/// by the header that makes its first element, and keys after a header go into the last one.
final class TOMLTableArrayBuilder {
    let line: Int
    let column: Int
    private(set) var tables: [TOMLTableBuilder]
    private(set) var last: TOMLTableBuilder

    init(first: TOMLTableBuilder) {
        line = first.line
        column = first.column
        tables = [first]
        last = first
    }

    func append(_ table: TOMLTableBuilder) {
        tables.append(table)
        last = table
    }
}
