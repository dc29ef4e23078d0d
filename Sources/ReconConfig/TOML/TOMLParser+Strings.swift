/// The four TOML string forms: "basic", 'literal', """multi-line basic""", '''multi-line literal'''.
extension TOMLParser {
    /// A basic string, the opening quote(s) next. Multi-line strings drop a newline right after
    /// the opening quotes and fold a line-ending backslash with the whitespace after it; CRLF
    /// inside them becomes LF.
    mutating func parseBasicString(multiline: Bool) throws(TOMLError) -> String {
        let start = mark
        advance(multiline ? 3 : 1)
        if multiline {
            try skipNewlineAfterOpeningQuotes()
        }
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw failure(
                    multiline
                        ? "unterminated multi-line string: missing closing `\"\"\"`"
                        : "unterminated string: missing closing `\"`",
                    at: start)
            }
            switch byte {
            case UInt8(ascii: "\""):
                if !multiline {
                    advance()
                    return String(decoding: out, as: UTF8.self)
                }
                if try closeMultiline(quote: byte, into: &out) {
                    return String(decoding: out, as: UTF8.self)
                }
            case UInt8(ascii: "\\"):
                try parseEscape(multiline: multiline, into: &out)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                guard multiline else {
                    throw failure("unterminated string: the line ends before the closing `\"`", at: start)
                }
                try consumeNewline()
                out.append(UInt8(ascii: "\n"))
            default:
                guard !Self.isForbiddenControl(byte) else {
                    throw failure("control character \(Self.scalarName(byte)) must be escaped in a string")
                }
                out.append(byte)
                advance()
            }
        }
    }

    /// A literal string, the opening quote(s) next: no escapes at all.
    mutating func parseLiteralString(multiline: Bool) throws(TOMLError) -> String {
        let start = mark
        advance(multiline ? 3 : 1)
        if multiline {
            try skipNewlineAfterOpeningQuotes()
        }
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw failure(
                    multiline
                        ? "unterminated multi-line literal string: missing closing `'''`"
                        : "unterminated literal string: missing closing `'`",
                    at: start)
            }
            switch byte {
            case UInt8(ascii: "'"):
                if !multiline {
                    advance()
                    return String(decoding: out, as: UTF8.self)
                }
                if try closeMultiline(quote: byte, into: &out) {
                    return String(decoding: out, as: UTF8.self)
                }
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                guard multiline else {
                    throw failure("unterminated literal string: the line ends before the closing `'`", at: start)
                }
                try consumeNewline()
                out.append(UInt8(ascii: "\n"))
            default:
                guard !Self.isForbiddenControl(byte) else {
                    throw failure("control character \(Self.scalarName(byte)) is not allowed in a literal string")
                }
                out.append(byte)
                advance()
            }
        }
    }

    private mutating func skipNewlineAfterOpeningQuotes() throws(TOMLError) {
        if peek() == UInt8(ascii: "\n") || peek() == UInt8(ascii: "\r") {
            try consumeNewline()
        }
    }

    /// At a quote inside a multi-line string: a run of fewer than three quotes is content;
    /// three to five close the string, the extra one or two being content (`""""` ends in `"`).
    /// Returns whether the string ended.
    private mutating func closeMultiline(quote: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var count = 0
        while peek(count) == quote {
            count += 1
        }
        if count < 3 {
            out.append(contentsOf: repeatElement(quote, count: count))
            advance(count)
            return false
        }
        guard count <= 5 else {
            throw failure("too many quotes in a row: at most two may come before the closing three")
        }
        out.append(contentsOf: repeatElement(quote, count: count - 3))
        advance(count)
        return true
    }

    /// At a backslash in a basic string.
    private mutating func parseEscape(multiline: Bool, into out: inout [UInt8]) throws(TOMLError) {
        let start = mark
        advance()
        guard let byte = peek() else {
            throw failure("unterminated string: it ends in a backslash", at: start)
        }
        let simple: UInt8? =
            switch byte {
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "t"): 0x09
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "\""): UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): UInt8(ascii: "\\")
            default: nil
            }
        if let simple {
            out.append(simple)
            advance()
            return
        }
        switch byte {
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let length = byte == UInt8(ascii: "u") ? 4 : 8
            advance()
            var value: UInt32 = 0
            for index in 0..<length {
                guard let digit = peek(index).flatMap(Self.hexValue) else {
                    let name = length == 4 ? "\\u" : "\\U"
                    throw failure("bad escape: `\(name)` needs \(length) hex digits", at: start)
                }
                value = value << 4 | UInt32(digit)
            }
            guard let scalar = Unicode.Scalar(value) else {
                let hex = String(value, radix: 16, uppercase: true)
                throw failure("bad escape: U+\(hex) is not a Unicode scalar value", at: start)
            }
            out.append(contentsOf: String(scalar).utf8)
            advance(length)
        case _ where multiline && Self.isWhitespaceOrNewline(byte):
            // A line-ending backslash: only whitespace may follow it on its line, and it eats
            // every space and newline up to the next other character.
            skipSpaces()
            guard peek() == UInt8(ascii: "\n") || peek() == UInt8(ascii: "\r") else {
                throw failure("bad escape: `\\` followed by a space must end the line", at: start)
            }
            while let next = peek(), Self.isWhitespaceOrNewline(next) {
                if next == UInt8(ascii: "\r") || next == UInt8(ascii: "\n") {
                    try consumeNewline()
                } else {
                    advance()
                }
            }
        default:
            let next = describeNext()
            let shown = next.hasPrefix("`") ? "`\\" + next.dropFirst() : "`\\` followed by \(next)"
            throw failure(
                "bad escape \(shown); allowed: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX",
                at: start)
        }
    }

    static func isWhitespaceOrNewline(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
