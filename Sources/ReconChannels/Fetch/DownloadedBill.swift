public import ReconBills
public import ReconCore

/// A bill file that arrived whole: its transport checks (status, hash the API announced, size)
/// passed. Parsing checks the rest, and nothing is staged unless that passes too.
public struct DownloadedBill: Sendable {
    /// The file as the channel sent it, in the fetch's work folder.
    public var path: String
    /// Lowercase hex SHA-256 of those bytes: the archive name.
    public var sha256: String
    public var bytes: Int64
    /// For the archive name: `csv`, `csv.gz`, `csv.zip`, `zip`.
    public var fileExtension: String
    /// Unpacks, decodes and parses the file, calling `emit` for each line; throws a `BillError`
    /// (or an archive error) for the first failed check. Returns the parser's summary, whose
    /// declared totals and fee rounding are recorded with the staged lines.
    let parser: @Sendable (_ path: String, _ emit: (BillLine) throws -> Void) throws -> BillSummary

    public init(
        path: String, sha256: String, bytes: Int64, fileExtension: String,
        parse: @escaping @Sendable (_ path: String, _ emit: (BillLine) throws -> Void) throws -> BillSummary
    ) {
        self.path = path
        self.sha256 = sha256
        self.bytes = bytes
        self.fileExtension = fileExtension
        parser = parse
    }

    /// The bill of a whole file, hashed (on a thread of our own) and sized here.
    static func measuring(
        path: String, fileExtension: String,
        parse: @escaping @Sendable (_ path: String, _ emit: (BillLine) throws -> Void) throws -> BillSummary
    ) async throws -> DownloadedBill {
        DownloadedBill(
            path: path, sha256: try await FileDigest.sha256(path: path), bytes: FileDigest.size(path),
            fileExtension: fileExtension, parse: parse)
    }

    public func parse(_ emit: (BillLine) throws -> Void) throws -> BillSummary {
        try parser(path, emit)
    }

    /// The same bill after its file moved (into the archive).
    public func moved(to newPath: String) -> DownloadedBill {
        var bill = self
        bill.path = newPath
        return bill
    }
}
