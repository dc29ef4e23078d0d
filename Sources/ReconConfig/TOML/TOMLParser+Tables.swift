/// Where headers and keys put things, with TOML's rules against defining anything twice:
/// - a key is defined once;
/// - a table gets one `[header]`; a table that only exists as the parent of another header
///   may get its own header later, once;
/// - tables made by dotted keys are extended only by more dotted keys (or by headers of
///   their sub-tables), and tables made by headers are not extended by dotted keys;
/// - inline tables and array values are complete once written.
extension TOMLParser {
    /// `[a.b.c]`: defines `c` in `a.b` and returns it.
    mutating func defineTable(
        _ key: [TOMLKeyPart], root: TOMLTableBuilder, header: TOMLMark
    ) throws(TOMLError) -> TOMLTableBuilder {
        let parent = try headerParent(key, root: root)
        guard let last = key.last else { return parent }
        let path = TOMLKeyPath.appending(last.name, to: parent.path)
        switch parent[last.name] {
        case nil:
            let table = TOMLTableBuilder(origin: .header, path: path, line: header.line, column: column(of: header))
            parent.add(last.name, .table(table))
            return table
        case .table(let table):
            switch table.origin {
            case .implicit:
                table.origin = .header
                table.line = header.line
                table.column = column(of: header)
                return table
            case .dotted:
                throw failure("table `\(path)` was already defined by dotted keys at line \(table.line)", at: last.mark)
            case .header, .inline:
                throw failure("table `\(path)` is defined twice (first at line \(table.line))", at: last.mark)
            }
        case .tableArray(let array):
            throw failure(
                "`\(path)` is an array of tables (first at line \(array.line)); write [[\(path)]] to add to it",
                at: last.mark)
        case .value(let node):
            throw failure(
                "duplicate key `\(path)`: already defined as \(Self.article(node.value)) at line \(node.line)",
                at: last.mark)
        }
    }

    /// `[[a.b]]`: appends a new table to the array `b` in `a`, creating the array if needed.
    mutating func appendTableArrayElement(
        _ key: [TOMLKeyPart], root: TOMLTableBuilder, header: TOMLMark
    ) throws(TOMLError) -> TOMLTableBuilder {
        let parent = try headerParent(key, root: root)
        guard let last = key.last else { return parent }
        let path = TOMLKeyPath.appending(last.name, to: parent.path)
        func element(_ index: Int) -> TOMLTableBuilder {
            TOMLTableBuilder(
                origin: .header, path: TOMLKeyPath.element(index, of: path),
                line: header.line, column: column(of: header))
        }
        switch parent[last.name] {
        case nil:
            let table = element(0)
            parent.add(last.name, .tableArray(TOMLTableArrayBuilder(first: table)))
            return table
        case .tableArray(let array):
            let table = element(array.tables.count)
            array.append(table)
            return table
        case .table(let table):
            throw failure(
                "`\(path)` is already a table (line \(table.line)); it cannot also be an array of tables",
                at: last.mark)
        case .value(let node):
            if case .array = node.value {
                throw failure(
                    "cannot append to `\(path)` with [[\(path)]]: it is an array value (line \(node.line))",
                    at: last.mark)
            }
            throw failure(
                "duplicate key `\(path)`: already defined as \(Self.article(node.value)) at line \(node.line)",
                at: last.mark)
        }
    }

    /// The table a header's last component goes in, creating missing parents as implicit
    /// tables and descending into the newest element of arrays of tables.
    private func headerParent(_ key: [TOMLKeyPart], root: TOMLTableBuilder) throws(TOMLError) -> TOMLTableBuilder {
        var table = root
        for part in key.dropLast() {
            let path = TOMLKeyPath.appending(part.name, to: table.path)
            switch table[part.name] {
            case nil:
                let child = TOMLTableBuilder(
                    origin: .implicit, path: path, line: part.mark.line, column: column(of: part.mark))
                table.add(part.name, .table(child))
                table = child
            case .table(let child):
                table = child
            case .tableArray(let array):
                table = array.last
            case .value(let node):
                throw failure(Self.notATable(path, node), at: part.mark)
            }
        }
        return table
    }

    /// `a.b.c = value` in `table`: creates `a` and `a.b` as dotted tables if needed.
    mutating func insert(_ key: [TOMLKeyPart], value: TOMLNode, into table: TOMLTableBuilder) throws(TOMLError) {
        guard let first = key.first, let last = key.last else { return }
        var target = table
        for part in key.dropLast() {
            let path = TOMLKeyPath.appending(part.name, to: target.path)
            switch target[part.name] {
            case nil:
                let child = TOMLTableBuilder(
                    origin: .dotted, path: path, line: part.mark.line, column: column(of: part.mark))
                target.add(part.name, .table(child))
                target = child
            case .table(let child) where child.origin == .dotted:
                target = child
            case .table(let child):
                throw failure(
                    "cannot add to table `\(path)` (defined at line \(child.line)) with a dotted key; "
                        + "add the key under its [\(path)] header", at: part.mark)
            case .tableArray(let array):
                throw failure(
                    "cannot add to array of tables `\(path)` (line \(array.line)) with a dotted key", at: part.mark)
            case .value(let node):
                throw failure(Self.notATable(path, node), at: part.mark)
            }
        }
        let path = TOMLKeyPath.appending(last.name, to: target.path)
        if let existing = target[last.name] {
            throw failure("duplicate key `\(path)` (first defined at line \(existing.line))", at: last.mark)
        }
        // The node sits where its key starts: that is the line to show in later messages.
        let node = TOMLNode(value: value.value, line: first.mark.line, column: column(of: first.mark))
        target.add(last.name, .value(node))
    }

    private static func notATable(_ path: String, _ node: TOMLNode) -> String {
        switch node.value {
        case .table:
            "cannot add to inline table `\(path)` (line \(node.line)): inline tables are complete once written"
        default:
            "cannot use `\(path)` as a table: it is already \(article(node.value)) (line \(node.line))"
        }
    }

    /// "a string", "an integer", …
    static func article(_ value: TOMLValue) -> String {
        switch value {
        case .integer, .array: "an \(value.typeName)"
        default: "a \(value.typeName)"
        }
    }
}
