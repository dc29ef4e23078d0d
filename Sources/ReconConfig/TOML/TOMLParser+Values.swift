/// Values: strings, arrays, inline tables, and the bare words (numbers, booleans).
extension TOMLParser {
    /// A value, at its first character. `path` is the dotted key it is assigned to, for messages.
    mutating func parseValue(path: String) throws(TOMLError) -> TOMLNode {
        let start = mark
        let column = column(of: start)
        func node(_ value: TOMLValue) -> TOMLNode {
            TOMLNode(value: value, line: start.line, column: column)
        }
        guard let byte = peek() else {
            throw failure("expected a value for `\(path)`, found the end of the file")
        }
        switch byte {
        case UInt8(ascii: "\""):
            let multiline = peek(1) == byte && peek(2) == byte
            return node(.string(try parseBasicString(multiline: multiline)))
        case UInt8(ascii: "'"):
            let multiline = peek(1) == byte && peek(2) == byte
            return node(.string(try parseLiteralString(multiline: multiline)))
        case UInt8(ascii: "["):
            return node(try parseArray(path: path))
        case UInt8(ascii: "{"):
            return node(try parseInlineTable(path: path, start: start))
        case _ where Self.isBareValueByte(byte):
            return node(try parseBareValue())
        default:
            throw failure("expected a value for `\(path)`, found \(describeNext())")
        }
    }

    /// `[a, b, …]`: newlines, comments and a trailing comma allowed; types may be mixed (TOML 1.0).
    private mutating func parseArray(path: String) throws(TOMLError) -> TOMLValue {
        let start = mark
        try enterNesting()
        advance()
        var elements: [TOMLNode] = []
        while true {
            try skipBlankSpace()
            guard let byte = peek() else {
                throw failure("unterminated array: missing `]`", at: start)
            }
            if byte == UInt8(ascii: "]") {
                advance()
                break
            }
            elements.append(try parseValue(path: TOMLKeyPath.element(elements.count, of: path)))
            try skipBlankSpace()
            switch peek() {
            case UInt8(ascii: ","):
                advance()
            case UInt8(ascii: "]"):
                advance()
                depth -= 1
                return .array(elements)
            case nil:
                throw failure("unterminated array: missing `]`", at: start)
            default:
                throw failure("expected `,` or `]` in the array `\(path)`, found \(describeNext())")
            }
        }
        depth -= 1
        return .array(elements)
    }

    /// `{ a = 1, b.c = 2 }`: on one line, no trailing comma (TOML 1.0), closed once written.
    private mutating func parseInlineTable(path: String, start: TOMLMark) throws(TOMLError) -> TOMLValue {
        try enterNesting()
        advance()
        let table = TOMLTableBuilder(origin: .inline, path: path, line: start.line, column: column(of: start))
        skipSpaces()
        if peek() == UInt8(ascii: "}") {
            advance()
            depth -= 1
            return .table(table.build())
        }
        while true {
            skipSpaces()
            switch peek() {
            case UInt8(ascii: "}"):
                throw failure("a trailing comma is not allowed in an inline table")
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw failure("an inline table must be on one line; use a [table] for more")
            case nil:
                throw failure("unterminated inline table: missing `}`", at: start)
            default:
                break
            }
            try parseKeyValue(into: table)
            skipSpaces()
            switch peek() {
            case UInt8(ascii: ","):
                advance()
            case UInt8(ascii: "}"):
                advance()
                depth -= 1
                return .table(table.build())
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw failure("an inline table must be on one line; use a [table] for more")
            case nil:
                throw failure("unterminated inline table: missing `}`", at: start)
            default:
                throw failure("expected `,` or `}` in the inline table `\(path)`, found \(describeNext())")
            }
        }
    }

    private mutating func enterNesting() throws(TOMLError) {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw failure("arrays and inline tables nest more than \(Self.maxDepth) deep")
        }
    }

    /// A number, boolean, or (rejected) date: the run of characters such values are made of.
    private mutating func parseBareValue() throws(TOMLError) -> TOMLValue {
        let start = mark
        var end = offset
        while end < bytes.count && Self.isBareValueByte(bytes[end]) {
            end += 1
        }
        let token = String(decoding: bytes[offset..<end], as: UTF8.self)
        advance(end - offset)
        do {
            return try TOMLScalar.parse(token)
        } catch {
            throw failure(error.message, at: start)
        }
    }

    /// Characters that can make up a number, boolean or date (and, wrongly, an unquoted string).
    static func isBareValueByte(_ byte: UInt8) -> Bool {
        TOMLKeyPath.isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: ":")
    }
}
