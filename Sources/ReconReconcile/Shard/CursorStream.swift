import ReconPostgres

/// Rows of a query, `batch` at a time through a server-side cursor, decoded one by one: a shard
/// of any size streams through the merge with one batch in memory. An error stops the stream and
/// is kept in `failure` (an iterator cannot throw); the caller checks it after the merge.
final class CursorStream<Element>: IteratorProtocol {
    private let connection: PGConnection
    private let cursor: String
    private let batch: Int
    private let decode: (PGRow) throws -> Element
    private var result: PGResult?
    private var index = 0
    private var done = false
    private(set) var failure: (any Error)?

    /// Declares `cursor` for `sql` inside the caller's transaction.
    init(
        _ cursor: String, sql: String, _ parameters: [any PGEncodable], on connection: PGConnection, batch: Int = 4000,
        decode: @escaping (PGRow) throws -> Element
    ) throws {
        self.connection = connection
        self.cursor = cursor
        self.batch = batch
        self.decode = decode
        _ = try connection.query("DECLARE \(cursor) NO SCROLL CURSOR FOR \(sql)", parameters, name: "declare \(cursor)")
    }

    func next() -> Element? {
        guard !done else { return nil }
        do {
            if result == nil || index >= result?.rowCount ?? 0 {
                let fetched = try connection.query("FETCH \(batch) FROM \(cursor)", name: "fetch \(cursor)")
                guard fetched.rowCount > 0 else {
                    done = true
                    return nil
                }
                result = fetched
                index = 0
            }
            guard let result else { return nil }
            defer { index += 1 }
            return try decode(result[index])
        } catch {
            failure = error
            done = true
            return nil
        }
    }

    func checked() throws {
        if let failure { throw failure }
    }
}
