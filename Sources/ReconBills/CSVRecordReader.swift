/// Splits delimited text into records as bytes arrive, RFC 4180 style: a field in quotes may hold
/// the delimiter, a doubled quote, CR or LF. For bank files (`bank_csv`), whose encoding is decoded
/// per field afterwards, so fields stay bytes here. Memory holds one record, not the file.
public struct CSVRecordReader: Sendable {
    /// One record: its fields' bytes and the line it starts on (1-based).
    public struct Record: Sendable, Equatable {
        public var fields: [[UInt8]]
        public var line: Int
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var reason: String
        public var description: String { "line \(line), column \(column): \(reason)" }
    }

    private enum State: Sendable {
        case fieldStart, unquoted, quoted, quoteInQuoted, afterCR
    }

    public let delimiter: UInt8
    public let quote: UInt8?
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [[UInt8]] = []
    private var line = 1
    private var column = 0
    private var recordLine = 1

    /// `quote` nil turns quoting off (every byte but the delimiter and line ends is data).
    public init(delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8? = UInt8(ascii: "\"")) {
        self.delimiter = delimiter
        self.quote = quote
    }

    /// Feeds the next bytes; `emit` gets each record completed by them.
    public mutating func feed(_ bytes: some Sequence<UInt8>, emit: (Record) throws -> Void) throws {
        // Contiguous bytes take the fast path; the generic loop is not specialized across modules.
        let done = try bytes.withContiguousStorageIfAvailable { buffer in
            try feed(UnsafeRawBufferPointer(buffer), emit: emit)
        }
        guard done == nil else { return }
        for byte in bytes { try feed(byte: byte, emit: emit) }
    }

    /// Feeds the next bytes; `emit` gets each record completed by them. A run of plain bytes in an
    /// unquoted field is appended at once rather than byte by byte (imports of a million rows
    /// spent most of their client time here).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (Record) throws -> Void) throws {
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            if state == .unquoted {
                var runEnd = index
                while runEnd < end, isPlain(bytes[runEnd]) { runEnd += 1 }
                if runEnd > index {
                    field.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<runEnd]))
                    column += runEnd - index
                    index = runEnd
                    continue
                }
            }
            try feed(byte: bytes[index], emit: emit)
            index += 1
        }
    }

    private func isPlain(_ byte: UInt8) -> Bool {
        byte != delimiter && byte != 10 && byte != 13 && UInt16(byte) != quoteByte
    }

    /// The quote as a value no byte has when quoting is off.
    private var quoteByte: UInt16 { quote.map(UInt16.init) ?? 0x100 }

    private mutating func feed(byte: UInt8, emit: (Record) throws -> Void) throws {
        column += 1
        switch state {
        case .afterCR:
            // CRLF is one line end; a lone CR ends the line too.
            state = .fieldStart
            if byte == 10 {
                column = 0
                return
            }
            column = 1
            try consume(byte, emit: emit)
        default:
            try consume(byte, emit: emit)
        }
    }

    /// The end of the input: emits the last record if the text did not end with a line break.
    public mutating func finish(emit: (Record) throws -> Void) throws {
        switch state {
        case .quoted:
            throw Failure(line: recordLine, column: 1, reason: "a quoted field is never closed")
        case .fieldStart where fields.isEmpty && field.isEmpty, .afterCR:
            return
        default:
            try endRecord(emit: emit)
        }
    }

    private mutating func consume(_ byte: UInt8, emit: (Record) throws -> Void) throws {
        switch state {
        case .fieldStart, .afterCR:
            if let quote, byte == quote {
                state = .quoted
            } else {
                state = .unquoted
                try consumeUnquoted(byte, emit: emit)
            }
        case .unquoted:
            try consumeUnquoted(byte, emit: emit)
        case .quoted:
            if let quote, byte == quote {
                state = .quoteInQuoted
            } else {
                if byte == 10 {
                    // A line break inside quotes: the record goes on, the line count too.
                    line += 1
                    column = 0
                }
                field.append(byte)
            }
        case .quoteInQuoted:
            if let quote, byte == quote {
                field.append(byte)
                state = .quoted
            } else if byte == delimiter {
                endField()
            } else if byte == 10 || byte == 13 {
                try endLine(byte, emit: emit)
            } else {
                throw Failure(
                    line: line, column: column, reason: "only a delimiter or a line end may follow a closing quote")
            }
        }
    }

    private mutating func consumeUnquoted(_ byte: UInt8, emit: (Record) throws -> Void) throws {
        if byte == delimiter {
            endField()
        } else if byte == 10 || byte == 13 {
            try endLine(byte, emit: emit)
        } else if let quote, byte == quote {
            throw Failure(line: line, column: column, reason: "a quote inside an unquoted field")
        } else {
            field.append(byte)
        }
    }

    private mutating func endField() {
        fields.append(field)
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endLine(_ byte: UInt8, emit: (Record) throws -> Void) throws {
        try endRecord(emit: emit)
        newLine()
        state = byte == 13 ? .afterCR : .fieldStart
    }

    private mutating func endRecord(emit: (Record) throws -> Void) throws {
        fields.append(field)
        field.removeAll(keepingCapacity: true)
        let record = Record(fields: fields, line: recordLine)
        fields.removeAll(keepingCapacity: true)
        try emit(record)
    }

    private mutating func newLine() {
        line += 1
        column = 0
        recordLine = line
    }
}
