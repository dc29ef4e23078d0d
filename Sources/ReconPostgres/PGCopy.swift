import CLibPQ
import Glibc

/// Streams COPY data to the server in chunks; rows are encoded by the caller with `PGCopyRow`.
/// Only full buffers are sent, so memory stays at one buffer however many rows go in.
///
/// Chunks are 64 KiB: the server reads a whole CopyData message before parsing any of it, so
/// with 1 MiB messages it sat waiting for each one to arrive; measured, 64 KiB keeps it busy
/// and matched psql's rate where 256 KiB and 1 MiB fell 10–20% behind (BENCHMARKS.md).
public struct PGCopyInWriter: ~Copyable {
    private let handle: OpaquePointer
    private let label: String
    private var buffer: [UInt8] = []
    private let chunkSize: Int

    init(handle: OpaquePointer, label: String, chunkSize: Int) {
        self.handle = handle
        self.label = label
        self.chunkSize = chunkSize
        buffer.reserveCapacity(chunkSize + 4096)
    }

    /// Appends one encoded row (a binary COPY also needs the format's header and trailer).
    public mutating func write(_ row: some PGCopyRowFormat) throws(PGError) {
        buffer.append(contentsOf: row.bytes)
        if buffer.count >= chunkSize { try flush() }
    }

    /// Appends bytes already in COPY format (e.g. a file prepared for `\copy`).
    public mutating func write(raw bytes: UnsafeRawBufferPointer) throws(PGError) {
        var offset = 0
        while offset < bytes.count {
            let take = min(chunkSize - buffer.count, bytes.count - offset)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
            offset += take
            if buffer.count >= chunkSize { try flush() }
        }
    }

    /// True when the server has sent something mid-COPY. During COPY FROM STDIN that is most
    /// likely an ErrorResponse (after which the server discards the rest), though a notice is
    /// possible, so a writer with much more to send may stop sending rows and end the COPY, whose
    /// result then says what happened. False when the answer has already been read into libpq's
    /// buffer: a hint, never a verdict.
    public func serverHasAnswered() -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    mutating func flush() throws(PGError) {
        guard !buffer.isEmpty else { return }
        var failure: PGError?
        buffer.withUnsafeBytes { bytes in
            do throws(PGError) { try send(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
        buffer.removeAll(keepingCapacity: true)
    }

    private func send(_ bytes: UnsafeRawBufferPointer) throws(PGError) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        if PQputCopyData(handle, base, Int32(bytes.count)) != 1 {
            throw PGError(.connectionLost, PGConnection.errorMessage(handle), statement: label)
        }
    }
}

/// One row in PostgreSQL's text COPY format: fields separated by TAB, `\N` for NULL, and
/// backslash, TAB, newline and carriage return escaped.
public struct PGCopyRow {
    public private(set) var bytes: [UInt8] = []
    private var fieldCount = 0

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func append(_ text: String?) {
        separate()
        guard var text else { return appendNull() }
        text.withUTF8 { appendEscaped($0) }
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        // Most fields need no escaping; copy those in one go.
        if !utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == 9 || $0 == 10 || $0 == 13 }) {
            bytes.append(contentsOf: utf8)
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 9: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 10: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 13: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            default: bytes.append(byte)
            }
        }
    }

    /// Text given as UTF-8 bytes (e.g. a field cut from a bill line), escaped like `append(String)`.
    public mutating func append(utf8 text: UnsafeRawBufferPointer) {
        separate()
        appendEscaped(text.bindMemory(to: UInt8.self))
    }

    public mutating func append(_ value: Int64?) {
        separate()
        guard let value else { return appendNull() }
        appendDecimal(value)
    }

    public mutating func append(_ value: Int?) { append(value.map(Int64.init)) }

    /// `YYYY-MM-DD`, written digit by digit (no String per row).
    public mutating func append(_ value: PGDate?) {
        separate()
        guard let value else { return appendNull() }
        let (year, month, day) = value.components
        appendDigits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, 2)
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, written digit by digit.
    public mutating func append(_ value: PGTimestamp?) {
        separate()
        guard let value else { return appendNull() }
        let (seconds, fraction) = floorDivide(value.microsecondsSince1970, 1_000_000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civilFromDays(Int(days))
        appendDigits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, 2)
        bytes.append(UInt8(ascii: " "))
        appendDigits(Int(secondOfDay / 3600), 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay % 3600 / 60), 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay % 60), 2)
        bytes.append(UInt8(ascii: "."))
        appendDigits(Int(fraction), 6)
        bytes.append(contentsOf: [UInt8(ascii: "+"), UInt8(ascii: "0"), UInt8(ascii: "0")])
    }

    /// A non-negative number in exactly `width` digits (years beyond 9999 are not business days).
    private mutating func appendDigits(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / divisor % 10))
            divisor /= 10
        }
    }

    public mutating func append(_ value: Bool?) {
        separate()
        guard let value else { return appendNull() }
        bytes.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// Ends the row; the row is complete and can be written.
    public mutating func end() {
        bytes.append(10)
    }

    /// Clears the row for reuse without giving back its memory.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        fieldCount = 0
    }

    private mutating func separate() {
        if fieldCount > 0 { bytes.append(9) }
        fieldCount += 1
    }

    private mutating func appendNull() { bytes.append(contentsOf: [92, UInt8(ascii: "N")]) }

    /// Integer to ASCII without going through String (COPY of a million rows calls this millions of times).
    private mutating func appendDecimal(_ value: Int64) {
        if value == 0 { return bytes.append(UInt8(ascii: "0")) }
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            while magnitude > 0 {
                scratch[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: scratch[(20 - count)...])
        }
    }
}

/// Splits one text-format COPY row back into fields, undoing the escapes; nil for `\N`.
public func pgDecodeCopyRow(_ line: UnsafeRawBufferPointer) -> [String?] {
    var fields: [String?] = []
    var current: [UInt8] = []
    var isNull = false
    var index = 0
    let count = line.count > 0 && line[line.count - 1] == 10 ? line.count - 1 : line.count
    func finish() {
        fields.append(isNull ? nil : String(decoding: current, as: UTF8.self))
        current.removeAll(keepingCapacity: true)
        isNull = false
    }
    while index < count {
        let byte = line[index]
        if byte == 9 {
            finish()
        } else if byte == 92, index + 1 < count {
            index += 1
            switch line[index] {
            case UInt8(ascii: "N"): isNull = true
            case UInt8(ascii: "t"): current.append(9)
            case UInt8(ascii: "n"): current.append(10)
            case UInt8(ascii: "r"): current.append(13)
            case UInt8(ascii: "b"): current.append(8)
            case UInt8(ascii: "f"): current.append(12)
            case UInt8(ascii: "v"): current.append(11)
            case let other: current.append(other)
            }
        } else {
            current.append(byte)
        }
        index += 1
    }
    finish()
    return fields
}

extension PGConnection {
    /// `COPY … FROM STDIN`: `produce` writes rows through the writer, which sends them in chunks.
    /// Returns the number of rows the server loaded. If `produce` throws, the COPY is aborted
    /// (nothing of it lands) and the error is rethrown.
    @discardableResult
    public func copyIn(
        _ sql: String, name: String? = nil, chunkSize: Int = 64 * 1024,
        _ produce: (inout PGCopyInWriter) throws -> Void
    ) throws -> Int64 {
        let label = name ?? statementLabel(sql)
        let handle = try liveHandle(label)
        let start = try check(PQexec(handle, sql), label: label, allowCopy: true)
        guard PQresultStatus(start.rawHandle) == PGRES_COPY_IN else {
            abandonCopy(PQresultStatus(start.rawHandle))
            throw PGError(.unexpectedResult, "the statement did not start COPY FROM STDIN", statement: label)
        }
        var writer = PGCopyInWriter(handle: handle, label: label, chunkSize: chunkSize)
        do {
            try produce(&writer)
            try writer.flush()
        } catch {
            // Abort: the server rolls back the COPY and reports our message as the error.
            _ = PQputCopyEnd(handle, "aborted by the client")
            drainResults(handle)
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else {
            throw PGError(.connectionLost, PGConnection.errorMessage(handle), statement: label)
        }
        let rows = try finishCopy(handle, label: label)
        return rows
    }

    /// `COPY … TO STDOUT`: calls `consume` with each row as the server sends it (text format: one
    /// line, newline included). Returns the number of rows. Nothing is held beyond one row.
    @discardableResult
    public func copyOut(
        _ sql: String, name: String? = nil,
        _ consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        let label = name ?? statementLabel(sql)
        let handle = try liveHandle(label)
        let start = try check(PQexec(handle, sql), label: label, allowCopy: true)
        guard PQresultStatus(start.rawHandle) == PGRES_COPY_OUT else {
            abandonCopy(PQresultStatus(start.rawHandle))
            throw PGError(.unexpectedResult, "the statement did not start COPY TO STDOUT", statement: label)
        }
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length == -1 { break }
            guard length >= 0, let buffer else {
                throw PGError(connectionCode, PGConnection.errorMessage(handle), statement: label)
            }
            defer { PQfreemem(buffer) }
            do {
                try consume(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
            } catch {
                cancelRunningStatement(handle)
                throw error
            }
        }
        return try finishCopy(handle, label: label)
    }

    /// Reads the results that close a COPY and returns its row count.
    private func finishCopy(_ handle: OpaquePointer, label: String) throws(PGError) -> Int64 {
        var rows: Int64 = 0
        var failure: PGError?
        while let result = PQgetResult(handle) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                rows = Int64(String(cString: PQcmdTuples(result))) ?? 0
                PQclear(result)
            } else if failure == nil {
                failure = PGConnection.serverError(result, connection: handle, label: label, fallback: connectionCode)
                PQclear(result)
            } else {
                PQclear(result)
            }
        }
        if let failure { throw failure }
        return rows
    }

    private func drainResults(_ handle: OpaquePointer) {
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    /// Asks the server to stop the running statement, then discards what is still in flight.
    private func cancelRunningStatement(_ handle: OpaquePointer) {
        if let cancel = PQgetCancel(handle) {
            var errorBuffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &errorBuffer, Int32(errorBuffer.count))
            PQfreeCancel(cancel)
        }
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if let buffer { PQfreemem(buffer) }
            if length < 0 { break }
        }
        drainResults(handle)
    }
}
