import Foundation
public import ReconPostgres

/// Binary COPY rows kept in a file until they can be streamed to the server: a shard's results
/// are decided before its fenced completion transaction opens, and an import keeps its rows while
/// it tries to COPY them straight into place. A file keeps memory flat however many rows.
public final class ResultSpool: @unchecked Sendable {
    public let path: String
    private var handle: FileHandle?
    private var buffer: [UInt8] = []
    public private(set) var rows: Int64 = 0

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Only this user may read it: it holds a day's legs or results.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw ReconcileError("cannot create the result file \(path)") }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
        buffer.append(contentsOf: PGBinaryCopyRow.header)
    }

    public func append(_ row: PGBinaryCopyRow) throws {
        buffer.append(contentsOf: row.bytes)
        rows += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes the trailer and closes the file.
    public func finish() throws {
        buffer.append(contentsOf: PGBinaryCopyRow.trailer)
        try flush()
        try handle?.close()
        handle = nil
    }

    private func flush() throws {
        try handle?.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// `COPY <table> (<columns>) FROM STDIN (FORMAT binary)` from the file, 1 MiB at a time.
    public static func copy(_ path: String, into table: String, columns: [String], on connection: PGConnection) throws {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw ReconcileError("the result file \(path) is gone")
        }
        defer { try? input.close() }
        try connection.copyIn(
            "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN (FORMAT binary)", name: "copy \(table)"
        ) { writer in
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try chunk.withUnsafeBytes { try writer.write(raw: $0) }
            }
        }
    }

    public func remove() {
        try? handle?.close()
        handle = nil
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A reconciliation step that cannot go on, with what to do about it.
public struct ReconcileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// False when running again cannot help (a bill that repeats a key).
    public var retryable: Bool

    public init(_ description: String, retryable: Bool = true) {
        self.description = description
        self.retryable = retryable
    }
}
