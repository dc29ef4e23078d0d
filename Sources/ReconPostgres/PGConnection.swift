import CLibPQ
import Glibc

/// One libpq connection. Its calls block, so it is used from threads of our own (see `PGPool`),
/// by one caller at a time.
///
/// Deliberately not `Sendable`: a body that `PGPool` lends it to can neither return it nor capture
/// it in a task, so no connection is ever used from two threads at once. The pool moves it between
/// its threads inside a box of its own (`PooledConnection`).
public final class PGConnection {
    private var handle: OpaquePointer?
    private var inTransaction = false

    /// Opens a connection from a libpq connection string (`host=/tmp/x dbname=recon`) or URI
    /// (`postgresql://user@host/db`). Blocks until connected or failed.
    public init(connectionString: String) throws(PGError) {
        // libpq's parse errors quote the offending token, which may be the password: check the
        // string first and say only that it is malformed.
        var parseError: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &parseError) else {
            if let parseError { PQfreemem(parseError) }
            throw PGError(
                .connectionFailed,
                "the connection string is malformed (not shown: it may hold a password); "
                    + "expected key=value pairs or a postgresql:// URI")
        }
        PQconninfoFree(options)
        // Defaults that the connection string may override: give up connecting after 10 s, and
        // let TCP keepalives notice a peer that vanished without closing the connection.
        let keywords = ["connect_timeout", "keepalives", "keepalives_idle", "dbname"]
        let values = ["10", "1", "30", connectionString]
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let connection else { throw PGError(.connectionFailed, "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            // The message names host and socket, never the password; the connection string is not repeated.
            let message = PGConnection.errorMessage(connection)
            PQfinish(connection)
            throw PGError(.connectionFailed, message)
        }
        // Notices ("relation already exists, skipping", the FATAL a restarting server sends to idle
        // connections) would go to stderr by default; they are not errors of ours, and the server log
        // keeps them.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    deinit { close() }

    /// Closes the connection. Safe to call more than once.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// False once closed or once libpq has seen the socket fail.
    public var isOpen: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Reads whatever the server sent while the connection sat idle, without blocking. A server that
    /// restarted has sent "terminating connection" and closed the socket: this notices, so the pool can
    /// reconnect before handing the connection out.
    public func checkIdleHealth() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // Read while the socket has something: first the server's last words, then (on a second
        // read) the end of the stream, which is what turns the status to CONNECTION_BAD.
        for _ in 0..<8 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            guard PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK else { return false }
        }
        // Notifications on a pooled connection are nobody's; drop them so they do not pile up.
        while let note = PQnotifies(handle) { PQfreemem(note) }
        return PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// The server's version, e.g. "15.18".
    public var serverVersion: String {
        guard let handle else { return "unknown" }
        let number = Int(PQserverVersion(handle))
        return number >= 100_000 ? "\(number / 10_000).\(number % 10_000)" : "\(number / 10_000).\(number / 100 % 100)"
    }

    // MARK: - Statements

    /// Runs one parameterized statement (`$1`, `$2`, …) and returns its rows in binary format.
    /// `name` labels the statement in errors; it defaults to the start of the SQL text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PGEncodable] = [], name: String? = nil) throws(PGError)
        -> PGResult
    {
        let label = name ?? statementLabel(sql)
        let handle = try liveHandle(label)
        let encoded = parameters.map(\.pgParameter)
        // libpq reads a text parameter up to its first NUL; refuse rather than store a cut value.
        if let index = encoded.firstIndex(where: { !$0.isBinary && $0.bytes?.contains(0) == true }) {
            throw PGError(
                .misuse, "parameter $\(index + 1) contains a NUL byte, which text cannot hold", statement: label)
        }
        let result = withParameterPointers(encoded) { types, values, lengths, formats in
            PQexecParams(handle, sql, Int32(encoded.count), types, values, lengths, formats, 1)
        }
        return try check(result, label: label)
    }

    /// Runs SQL text with no parameters, possibly several statements (migrations). Returns nothing.
    public func execute(script sql: String, name: String? = nil) throws(PGError) {
        let label = name ?? statementLabel(sql)
        let handle = try liveHandle(label)
        _ = try check(PQexec(handle, sql), label: label)
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (the error is
    /// rethrown). A COMMIT that fails (serialization, deferred constraint) throws too.
    public func transaction<T>(name: String = "transaction", _ body: (PGConnection) throws -> T) throws -> T {
        guard !inTransaction else { throw PGError(.misuse, "transactions do not nest", statement: name) }
        try execute(script: "BEGIN", name: "\(name): BEGIN")
        inTransaction = true
        defer { inTransaction = false }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        // A body that swallowed an error leaves the transaction aborted, and COMMIT would then quietly
        // roll back while reporting success. Refuse that instead.
        if let handle, PQtransactionStatus(handle) == PQTRANS_INERROR {
            rollbackQuietly()
            throw PGError(
                .misuse, "a statement in the transaction failed and its error was caught; everything was rolled back",
                statement: name)
        }
        try execute(script: "COMMIT", name: "\(name): COMMIT")
        return value
    }

    /// Rolls back whatever is open; used on error paths where the original error matters more.
    func rollbackQuietly() {
        guard let handle, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) != PQTRANS_IDLE else {
            return
        }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }

    // MARK: - Internals shared with COPY and LISTEN

    func liveHandle(_ label: String) throws(PGError) -> OpaquePointer {
        guard let handle else { throw PGError(.connectionLost, "the connection is closed", statement: label) }
        return handle
    }

    /// Turns a PGresult into a `PGResult`, or a `PGError` carrying the server's fields.
    func check(_ result: OpaquePointer?, label: String, allowCopy: Bool = false) throws(PGError) -> PGResult {
        guard let result else {
            throw PGError(connectionCode, handle.map(PGConnection.errorMessage) ?? "no result", statement: label)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PGResult(handle: result, statement: label)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            if allowCopy { return PGResult(handle: result, statement: label) }
            let status = PQresultStatus(result)
            PQclear(result)
            abandonCopy(status)
            throw PGError(.misuse, "COPY goes through copyIn or copyOut, not query or execute", statement: label)
        default:
            let error = PGConnection.serverError(result, connection: handle, label: label, fallback: connectionCode)
            PQclear(result)
            throw error
        }
    }

    /// Ends a COPY that was started by mistake, leaving the connection ready for statements.
    func abandonCopy(_ status: ExecStatusType) {
        guard let handle else { return }
        if status == PGRES_COPY_IN {
            _ = PQputCopyEnd(handle, "COPY FROM STDIN was not expected here")
        } else {
            while true {
                var buffer: UnsafeMutablePointer<CChar>?
                let length = PQgetCopyData(handle, &buffer, 0)
                if let buffer { PQfreemem(buffer) }
                if length < 0 { break }
            }
        }
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    /// `.connectionLost` when the socket is gone, else `.serverError`.
    var connectionCode: PGError.Code {
        guard let handle else { return .connectionLost }
        return PQstatus(handle) == CONNECTION_OK ? .serverError : .connectionLost
    }

    static func serverError(_ result: OpaquePointer, connection: OpaquePointer?, label: String, fallback: PGError.Code)
        -> PGError
    {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let message =
            field(diagnostic("M"))
            ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines()
        let sqlState = field(diagnostic("C"))
        let lost = connection.map { PQstatus($0) != CONNECTION_OK } ?? true
        let code: PGError.Code = sqlState != nil && !lost ? .serverError : fallback
        return PGError(
            code, message.isEmpty ? "the server reported an error without a message" : message,
            sqlState: sqlState, detail: field(diagnostic("D")), hint: field(diagnostic("H")),
            statement: label)
    }

    static func errorMessage(_ connection: OpaquePointer) -> String {
        guard let text = PQerrorMessage(connection) else { return "unknown libpq error" }
        let message = String(cString: text).trimmingTrailingNewlines()
        return message.isEmpty ? "unknown libpq error" : message
    }
}

/// libpq's PG_DIAG_* field codes are character-literal macros, which Swift does not import.
private func diagnostic(_ code: Unicode.Scalar) -> Int32 { Int32(code.value) }

/// Lays parameters out as the four parallel C arrays PQexecParams takes, valid during `body`.
private func withParameterPointers<R>(
    _ parameters: [PGParameter],
    _ body: (
        UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
    ) -> R
) -> R {
    if parameters.isEmpty { return body(nil, nil, nil, nil) }
    // One buffer holds every value; text values get the NUL terminator libpq expects.
    var storage: [UInt8] = []
    storage.reserveCapacity(parameters.reduce(0) { $0 + ($1.bytes?.count ?? 0) + 1 })
    var offsets: [Int?] = []
    var lengths: [Int32] = []
    for parameter in parameters {
        guard let bytes = parameter.bytes else {
            offsets.append(nil)
            lengths.append(0)
            continue
        }
        offsets.append(storage.count)
        storage.append(contentsOf: bytes)
        if !parameter.isBinary { storage.append(0) }
        lengths.append(Int32(clamping: bytes.count))
    }
    // Never empty, so the base address is never nil (a zero-length bytea is not NULL).
    storage.append(0)
    let types = parameters.map { Oid($0.oid.rawValue) }
    let formats = parameters.map { Int32($0.isBinary ? 1 : 0) }
    return storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
        let values: [UnsafePointer<CChar>?] = offsets.map { offset in offset.flatMap { base?.advanced(by: $0) } }
        return body(types, values, lengths, formats)
    }
}

/// Lays out strings as a NULL-terminated array of C strings, valid during `body`.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { preconditionFailure("a non-empty array has storage") }
        return body(base)
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while let last = text.last, last.isNewline || last == " " { text = text.dropLast() }
        return String(text)
    }
}
