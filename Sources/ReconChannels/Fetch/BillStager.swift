import Foundation
public import ReconCore
public import ReconPostgres

/// Turns parsed lines into a file of COPY rows, counting as it goes, so staging in the job's
/// fenced completion is one streamed `COPY` and a million-line bill never sits in memory.
///
/// The counts here are what will be staged, taken from the lines themselves; `bill_fetches`
/// records them next to the bill's declared totals.
public final class BillStager {
    public let path: String
    /// Counted from the lines written (the parser's declared totals are not trusted here).
    public private(set) var totals = BillSummary()
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var row = PGCopyRow(capacity: 512)

    /// Creates (or empties) `path`.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ChannelError.transient("cannot create the staging file \(path)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ChannelError.transient("cannot open the staging file \(path)")
        }
        self.path = path
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    deinit { try? handle.close() }

    public func append(_ line: BillLine) throws {
        row.reset()
        row.append(line.channel)
        row.append(line.billDate.pgDate)
        row.append(Int64(line.lineNumber))
        row.append(line.channelTransactionID)
        row.append(line.merchantOrderID)
        row.append(line.refundID)
        row.append(line.kind.rawValue)
        row.append(line.amountFen)
        row.append(line.feeFen)
        row.append(line.channelStatus)
        row.append(PGTimestamp(microsecondsSince1970: line.timeMicroseconds))
        row.append(line.flag)
        row.end()
        buffer.append(contentsOf: row.bytes)
        if buffer.count >= 1 << 20 { try flush() }
        totals.count(line)
    }

    /// Writes what is buffered and closes the file.
    public func finish() throws {
        try flush()
        try handle.synchronize()
        try handle.close()
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    static let columns =
        "channel, bill_date, line_no, channel_txn_id, merchant_order_id, refund_id, kind, amount_fen, fee_fen, channel_status, txn_time, flag"
}

/// What one fetch stages for its channel-day, committed in the job's fenced completion: the old
/// lines of that day go, the new ones arrive through COPY, and `bill_fetches` describes them.
/// Running it twice leaves the same rows, never twice as many.
public struct StagedBill: Sendable {
    public var channel: String
    public var day: LocalDay
    public var outcome: String
    /// The COPY file; nil for an empty day.
    public var copyFile: String?
    /// Counted from the staged lines.
    public var totals: BillSummary
    /// The parser's summary: the bill's declared totals and WeChat's fee rounding.
    public var report: BillSummary
    public var sha256: String?
    public var fileBytes: Int64
    public var archivePath: String?
    public var jobID: Int64
    public var leaseToken: Int64
    public var worker: String

    public func write(on connection: PGConnection) throws {
        try connection.query(
            "DELETE FROM staged_bill_lines WHERE channel = $1 AND bill_date = $2", [channel, day.pgDate],
            name: "stage: drop the day's old lines")
        if let copyFile {
            let loaded = try connection.copyIn(
                "COPY staged_bill_lines (\(BillStager.columns)) FROM STDIN", name: "stage: copy lines"
            ) { writer in
                guard let input = FileHandle(forReadingAtPath: copyFile) else {
                    throw ChannelError.transient("the staging file \(copyFile) is gone")
                }
                defer { try? input.close() }
                while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                    try chunk.withUnsafeBytes { try writer.write(raw: $0) }
                }
            }
            guard loaded == totals.lines else {
                throw ChannelError.transient("staged \(loaded) lines where \(totals.lines) were parsed")
            }
        }
        try connection.query(
            """
            INSERT INTO bill_fetches (channel, bill_date, outcome, file_sha256, file_bytes, archive_path, lines, payments,
                refunds, amount_fen, fee_fen, flagged, fee_rounding_units, declared_totals, job_id, lease_token, worker,
                fetched_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now())
            ON CONFLICT (channel, bill_date) DO UPDATE SET outcome = excluded.outcome, file_sha256 = excluded.file_sha256,
                file_bytes = excluded.file_bytes, archive_path = excluded.archive_path, lines = excluded.lines,
                payments = excluded.payments, refunds = excluded.refunds, amount_fen = excluded.amount_fen,
                fee_fen = excluded.fee_fen, flagged = excluded.flagged, fee_rounding_units = excluded.fee_rounding_units,
                declared_totals = excluded.declared_totals, job_id = excluded.job_id, lease_token = excluded.lease_token,
                worker = excluded.worker, fetched_at = excluded.fetched_at
            """,
            [
                channel, day.pgDate, outcome, sha256, fileBytes, archivePath, totals.lines, totals.payments, totals.refunds,
                totals.amountFen, totals.feeFen, totals.flagged, report.feeRoundingUnits, report.declaredTotals, jobID,
                leaseToken, worker,
            ], name: "stage: record the fetch")
    }
}
