import Foundation

/// Cuts a byte stream into lines at LF, dropping a CR before it, as the bytes arrive. Lines come
/// out numbered from 1 as in the file; the last one may lack a line ending. Memory holds one
/// line, capped, so a file with no line breaks cannot grow it without bound.
struct LineSplitter: Sendable {
    struct Line: Sendable {
        var bytes: [UInt8]
        var number: Int
        /// False only for a last line the file ended without a line break.
        var terminated: Bool
    }

    /// The line that grew past the cap, and how long it was when it did.
    struct TooLong: Error {
        var line: Int
        var length: Int
    }

    let maximumLength: Int
    private var pending: [UInt8] = []
    private var number = 1

    init(maximumLength: Int = 1 << 20) {
        self.maximumLength = maximumLength
    }

    /// Appends the lines these bytes complete to `lines`.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, into lines: inout [Line]) throws(TooLong) {
        var start = 0
        while start < bytes.count {
            guard let end = Self.indexOfNewline(in: bytes, from: start) else {
                pending.append(contentsOf: bytes[start...])
                guard pending.count <= maximumLength else { throw TooLong(line: number, length: pending.count) }
                return
            }
            pending.append(contentsOf: bytes[start..<end])
            guard pending.count <= maximumLength + 1 else { throw TooLong(line: number, length: pending.count) }
            if pending.last == 13 { pending.removeLast() }
            lines.append(Line(bytes: pending, number: number, terminated: true))
            pending.removeAll(keepingCapacity: true)
            number += 1
            start = end + 1
        }
    }

    /// memchr: the byte-at-a-time search was a fifth of a fixed-width parse.
    private static func indexOfNewline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, let found = memchr(base + start, 10, bytes.count - start) else {
            return nil
        }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The lines `bytes` completes; a line past the maximum is a `BillError` of `file`'s frame.
    mutating func lines(in bytes: UnsafeRawBufferPointer, file: String) throws(BillError) -> [Line] {
        var lines: [Line] = []
        do {
            try feed(bytes, into: &lines)
        } catch {
            throw BillError(
                file: file, line: error.line, column: nil, check: "frame",
                reason: "the line is longer than \(maximumLength) bytes")
        }
        return lines
    }

    /// The last line, if the file did not end with a line break.
    mutating func finish() -> Line? {
        guard !pending.isEmpty else { return nil }
        if pending.last == 13 { pending.removeLast() }
        defer { pending.removeAll() }
        return Line(bytes: pending, number: number, terminated: false)
    }
}

extension [UInt8] {
    /// The bytes without leading and trailing spaces and TABs (ASCII in every bill encoding).
    func trimmedSpacesAndTabs() -> ArraySlice<UInt8> {
        self[...].trimmedSpacesAndTabs()
    }
}

extension ArraySlice<UInt8> {
    func trimmedSpacesAndTabs() -> ArraySlice<UInt8> {
        var slice = self
        while let first = slice.first, first == 32 || first == 9 { slice.removeFirst() }
        while let last = slice.last, last == 32 || last == 9 { slice.removeLast() }
        return slice
    }

    /// Splits at every `separator` byte, keeping empty fields.
    /// A plain loop: the generic `split` was a third of the Alipay row parse.
    func fields(separatedBy separator: UInt8) -> [ArraySlice<UInt8>] {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(32)
        var start = startIndex
        var index = startIndex
        while index < endIndex {
            if self[index] == separator {
                fields.append(self[start..<index])
                start = index + 1
            }
            index += 1
        }
        fields.append(self[start..<endIndex])
        return fields
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes without leading and trailing spaces and TABs, in place.
    func trimmingSpacesAndTabs() -> UnsafeRawBufferPointer {
        var start = 0
        var end = count
        while start < end, self[start] == 32 || self[start] == 9 { start += 1 }
        while end > start, self[end - 1] == 32 || self[end - 1] == 9 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: self[start..<end])
    }
}
