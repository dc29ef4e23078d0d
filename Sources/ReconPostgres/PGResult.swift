import CLibPQ

/// The rows of one statement, in PostgreSQL's binary format. Owns its `PGresult`.
///
/// `@unchecked Sendable`: after libpq hands it over, a PGresult is never modified, and libpq's
/// accessors (PQgetvalue, PQntuples, …) only read it, so any thread may read it at once.
public final class PGResult: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The statement's name, for errors raised while decoding its rows.
    public let statement: String

    init(handle: OpaquePointer, statement: String) {
        self.handle = handle
        self.statement = statement
    }

    deinit { PQclear(handle) }

    /// For this module's own status checks (COPY start); the result keeps ownership.
    var rawHandle: OpaquePointer { handle }

    public var rowCount: Int { Int(PQntuples(handle)) }
    public var columnCount: Int { Int(PQnfields(handle)) }

    /// Rows inserted, updated or deleted (PQcmdTuples); 0 when the command reports none.
    public var affectedRows: Int64 {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int64(String(cString: text)) ?? 0
    }

    public func columnName(_ column: Int) -> String {
        guard column >= 0, column < columnCount, let name = PQfname(handle, Int32(column)) else { return "?" }
        return String(cString: name)
    }

    public func columnIndex(named name: String) -> Int? {
        // Quoted, so that PQfnumber does not fold the name to lower case.
        let index = PQfnumber(
            handle,
            "\""
                + name.split(separator: "\"", omittingEmptySubsequences: false)
                .joined(separator: "\"\"") + "\"")
        return index >= 0 ? Int(index) : nil
    }

    public var rows: [PGRow] { (0..<rowCount).map { PGRow(result: self, index: $0) } }

    public subscript(row: Int) -> PGRow { PGRow(result: self, index: row) }

    /// The first row, or nil when there is none.
    public var first: PGRow? { rowCount > 0 ? self[0] : nil }

    func decode<T: PGDecodable>(_ type: T.Type, row: Int, column: Int) throws(PGError) -> T {
        guard row >= 0, row < rowCount, column >= 0, column < columnCount else {
            throw PGError(
                .misuse, "row \(row), column \(column) is outside a result of \(rowCount)×\(columnCount)",
                statement: statement)
        }
        let r = Int32(row), c = Int32(column)
        do {
            if PQgetisnull(handle, r, c) != 0 { return try T.pgDecodeNull() }
            let length = Int(PQgetlength(handle, r, c))
            let oid = PGOid(rawValue: PQftype(handle, c))
            guard let value = PQgetvalue(handle, r, c) else { return try T.pgDecodeNull() }
            return try T.pgDecode(UnsafeRawBufferPointer(start: value, count: length), oid: oid)
        } catch {
            throw PGError(
                .decodingFailed, "column \(columnName(column)) of row \(row) \(error.reason)", statement: statement)
        }
    }
}

/// One row of a `PGResult`; keeps the result alive.
public struct PGRow: Sendable {
    public let result: PGResult
    public let index: Int

    /// Decodes column `column` (0-based) as `T`; use an Optional `T` where the column may be NULL.
    public func decode<T: PGDecodable>(_ type: T.Type = T.self, at column: Int) throws(PGError) -> T {
        try result.decode(type, row: index, column: column)
    }

    /// Decodes the column named `name`.
    public func decode<T: PGDecodable>(_ type: T.Type = T.self, named name: String) throws(PGError) -> T {
        guard let column = result.columnIndex(named: name) else {
            throw PGError(.misuse, "the result has no column named \(name)", statement: result.statement)
        }
        return try result.decode(type, row: index, column: column)
    }
}
