/// A position in the source, taken before a token so that an error can point at its start.
struct TOMLMark {
    let offset: Int
    let line: Int
    let lineStart: Int
}

/// One component of a (possibly dotted) key, with where it was written.
struct TOMLKeyPart {
    let name: String
    let mark: TOMLMark
}

/// A recursive-descent parser over the UTF-8 bytes of one document.
///
/// Works on bytes because every TOML delimiter is ASCII; the input came from a `String`, so
/// it is valid UTF-8, and bytes copied through unchanged stay valid. The document structure
/// lives here; strings, numbers, compound values and table bookkeeping are in extensions.
struct TOMLParser {
    let file: String
    let bytes: [UInt8]
    var offset = 0
    var line = 1
    var lineStart = 0
    /// Nesting of arrays and inline tables, bounded so hostile input cannot exhaust the stack.
    var depth = 0
    static let maxDepth = 64
    /// Components in one key, bounded for the same reason (tables nest once per component).
    static let maxKeyParts = 64

    init(text: String, file: String) {
        self.file = file
        bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            offset = 3
            lineStart = 3
        }
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        let root = TOMLTableBuilder(origin: .header, path: "", line: 1, column: 1)
        var current = root
        while true {
            skipSpaces()
            guard let byte = peek() else { break }
            switch byte {
            case UInt8(ascii: "#"):
                try skipComment()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try consumeNewline()
            case UInt8(ascii: "["):
                current = try parseHeader(root: root)
                try expectLineEnd(after: "the table header")
            default:
                try parseKeyValue(into: current)
                try expectLineEnd(after: "the value")
            }
        }
        return root.build()
    }

    /// `[a.b]` or `[[a.b]]`; returns the table that following keys go into.
    private mutating func parseHeader(root: TOMLTableBuilder) throws(TOMLError) -> TOMLTableBuilder {
        let start = mark
        advance()
        let isArray = peek() == UInt8(ascii: "[")
        if isArray {
            advance()
        }
        skipSpaces()
        let key = try parseKey()
        skipSpaces()
        guard peek() == UInt8(ascii: "]") else {
            throw failure("expected `]` to close the table header, found \(describeNext())")
        }
        advance()
        if isArray {
            guard peek() == UInt8(ascii: "]") else {
                throw failure("expected `]]` to close the array-of-tables header, found \(describeNext())")
            }
            advance()
            return try appendTableArrayElement(key, root: root, header: start)
        }
        return try defineTable(key, root: root, header: start)
    }

    /// `key = value`, at top level or inside an inline table.
    mutating func parseKeyValue(into table: TOMLTableBuilder) throws(TOMLError) {
        let key = try parseKey()
        let path = key.reduce(table.path) { TOMLKeyPath.appending($1.name, to: $0) }
        skipSpaces()
        guard peek() == UInt8(ascii: "=") else {
            throw failure("expected `=` after key `\(path)`, found \(describeNext())")
        }
        advance()
        skipSpaces()
        let value = try parseValue(path: path)
        try insert(key, value: value, into: table)
    }

    // MARK: Keys

    /// A key: simple keys joined by dots, with optional spaces around the dots.
    mutating func parseKey() throws(TOMLError) -> [TOMLKeyPart] {
        var parts = [try parseSimpleKey()]
        while true {
            let beforeSpaces = mark
            skipSpaces()
            guard peek() == UInt8(ascii: ".") else {
                restore(beforeSpaces)
                break
            }
            advance()
            skipSpaces()
            parts.append(try parseSimpleKey())
            guard parts.count <= Self.maxKeyParts else {
                throw failure("key has more than \(Self.maxKeyParts) parts", at: parts[0].mark)
            }
        }
        return parts
    }

    private mutating func parseSimpleKey() throws(TOMLError) -> TOMLKeyPart {
        let start = mark
        guard let byte = peek() else {
            throw failure("expected a key, found the end of the file")
        }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            if peek(1) == byte && peek(2) == byte {
                throw failure("a key cannot be a multi-line string")
            }
            let name =
                byte == UInt8(ascii: "\"")
                ? try parseBasicString(multiline: false) : try parseLiteralString(multiline: false)
            return TOMLKeyPart(name: name, mark: start)
        case _ where TOMLKeyPath.isBareKeyByte(byte):
            var end = offset
            while end < bytes.count && TOMLKeyPath.isBareKeyByte(bytes[end]) {
                end += 1
            }
            let name = String(decoding: bytes[offset..<end], as: UTF8.self)
            advance(end - offset)
            return TOMLKeyPart(name: name, mark: start)
        default:
            throw failure("expected a key, found \(describeNext())")
        }
    }

    // MARK: Scanning

    var mark: TOMLMark {
        TOMLMark(offset: offset, line: line, lineStart: lineStart)
    }

    /// Goes back to a mark taken earlier on the same line.
    mutating func restore(_ mark: TOMLMark) {
        offset = mark.offset
        line = mark.line
        lineStart = mark.lineStart
    }

    func peek(_ ahead: Int = 0) -> UInt8? {
        let index = offset + ahead
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where offset < bytes.count {
            if bytes[offset] == UInt8(ascii: "\n") {
                line += 1
                lineStart = offset + 1
            }
            offset += 1
        }
    }

    /// Spaces and tabs, the only whitespace TOML has within a line.
    mutating func skipSpaces() {
        while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
            advance()
        }
    }

    /// From `#` to just before the end of the line.
    mutating func skipComment() throws(TOMLError) {
        advance()
        while let byte = peek(), byte != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") {
                break
            }
            if Self.isForbiddenControl(byte) {
                throw failure("control character \(Self.scalarName(byte)) is not allowed in a comment")
            }
            advance()
        }
    }

    /// `\n` or `\r\n`; a lone `\r` is an error in TOML.
    mutating func consumeNewline() throws(TOMLError) {
        if peek() == UInt8(ascii: "\r") {
            guard peek(1) == UInt8(ascii: "\n") else {
                throw failure("a carriage return must be followed by a line feed")
            }
            advance()
        }
        advance()
    }

    /// Spaces, comments and newlines, as allowed between the elements of an array.
    mutating func skipBlankSpace() throws(TOMLError) {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                advance()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try consumeNewline()
            case UInt8(ascii: "#"):
                try skipComment()
            default:
                return
            }
        }
    }

    /// After a value or header only spaces and a comment may follow on the line.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipSpaces()
        if peek() == UInt8(ascii: "#") {
            try skipComment()
        }
        guard let byte = peek() else { return }
        guard byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") else {
            throw failure("expected a newline after \(what), found \(describeNext())")
        }
        try consumeNewline()
    }

    /// Control characters other than tab, which TOML does not allow raw in strings and comments.
    static func isForbiddenControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F
    }

    static func scalarName(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    // MARK: Errors

    /// 1-based column of a mark, counting Unicode scalars (UTF-8 lead bytes), tabs as one.
    func column(of mark: TOMLMark) -> Int {
        var column = 1
        for byte in bytes[mark.lineStart..<mark.offset] where byte & 0xC0 != 0x80 {
            column += 1
        }
        return column
    }

    func failure(_ message: String, at mark: TOMLMark) -> TOMLError {
        TOMLError(file: file, line: mark.line, column: column(of: mark), message: message)
    }

    func failure(_ message: String) -> TOMLError {
        failure(message, at: mark)
    }

    /// The next character as a message names it.
    func describeNext() -> String {
        guard let byte = peek() else { return "the end of the file" }
        switch byte {
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            return "the end of the line"
        case UInt8(ascii: "`"):
            return "a backtick"
        case _ where byte < 0x20 || byte == 0x7F:
            return Self.scalarName(byte)
        default:
            var end = offset + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 {
                end += 1
            }
            return "`" + String(decoding: bytes[offset..<end], as: UTF8.self) + "`"
        }
    }
}
