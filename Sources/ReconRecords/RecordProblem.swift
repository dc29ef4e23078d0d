import ReconCore

/// Why one row of an import file was refused: the line, the column by its header name, and what
/// is wrong in words an operator can act on. The importer adds the file's name.
public struct RecordProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    /// The header name of the column, or nil for a problem with the whole row.
    public var column: String?
    public var message: String

    public init(line: Int, column: String?, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        column.map { "line \(line), column \($0): \(message)" } ?? "line \(line): \(message)"
    }
}

/// Reads one row's fields by header position, turning bytes into checked values; each refusal
/// names the column.
struct FieldReader {
    let fields: [[UInt8]]
    let header: [String]
    let line: Int

    func problem(_ column: Int, _ message: String) -> RecordProblem {
        RecordProblem(line: line, column: header[column], message: message)
    }

    /// The field as UTF-8 text, surrounding spaces removed.
    /// The field's text without surrounding spaces and tabs. Trimmed as bytes (spaces and tabs
    /// are one byte in UTF-8), and ASCII, most fields, decodes without validation.
    func text(_ column: Int) throws(RecordProblem) -> String {
        let bytes = fields[column]
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        let trimmed = bytes[start..<end]
        if trimmed.allSatisfy({ $0 < 0x80 }) { return String(decoding: trimmed, as: UTF8.self) }
        guard let text = String(validating: trimmed, as: UTF8.self) else {
            throw problem(column, "not UTF-8 text (import files are UTF-8)")
        }
        return text
    }

    func required(_ column: Int) throws(RecordProblem) -> String {
        let value = try text(column)
        guard !value.isEmpty else { throw problem(column, "is empty") }
        return value
    }

    func optional(_ column: Int) throws(RecordProblem) -> String? {
        let value = try text(column)
        return value.isEmpty ? nil : value
    }

    func word<Word: RawRepresentable & CaseIterable>(_ column: Int, as: Word.Type) throws(RecordProblem) -> Word
    where Word.RawValue == String {
        let value = try text(column)
        guard let word = Word(rawValue: value) else {
            let allowed = Word.allCases.map(\.rawValue).joined(separator: ", ")
            throw problem(column, "\"\(value)\" is not one of \(allowed)")
        }
        return word
    }

    /// Yuan with at most two decimals, exactly in fen; `signed` allows a minus sign.
    /// `emptyAs` stands for an empty field; without it an empty field is refused like any other
    /// text that is not an amount.
    func yuan(_ column: Int, signed: Bool, emptyAs: Int64? = nil) throws(RecordProblem) -> Int64 {
        let value = try text(column)
        if value.isEmpty, let emptyAs { return emptyAs }
        if !signed, value.hasPrefix("-") {
            throw problem(column, "\"\(value)\" is negative: amounts are magnitudes (a refund's direction signs it)")
        }
        do {
            return try Money.fen(fromYuan: value)
        } catch {
            throw problem(column, error.description)
        }
    }

    func instant(_ column: Int) throws(RecordProblem) -> Int64 {
        let value = try text(column)
        switch ISOTimestamp.microseconds(value) {
        case .success(let microseconds): return microseconds
        case .failure(let reason): throw problem(column, "\"\(value)\" is \(reason)")
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// Checks a file's first row against the one header the format allows, exactly.
func checkHeader(_ fields: [[UInt8]], expected: [String], line: Int) throws(RecordProblem) {
    var names = fields.map { String(decoding: $0, as: UTF8.self).trimmingSpaces }
    // A UTF-8 byte-order mark, as spreadsheets write, is not part of the first name.
    if let first = names.first, first.hasPrefix("\u{FEFF}") { names[0] = String(first.dropFirst()) }
    guard names != expected else { return }
    let missing = expected.filter { !names.contains($0) }
    let unknown = names.filter { !expected.contains($0) }
    var detail: [String] = []
    if !missing.isEmpty { detail.append("missing \(missing.joined(separator: ", "))") }
    if !unknown.isEmpty { detail.append("unknown \(unknown.joined(separator: ", "))") }
    if detail.isEmpty { detail.append("the columns are out of order") }
    throw RecordProblem(
        line: line, column: nil,
        message: "the header must be exactly \(expected.joined(separator: ",")): \(detail.joined(separator: "; "))")
}
