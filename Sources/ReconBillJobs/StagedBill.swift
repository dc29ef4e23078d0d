import CoreFoundation  // timespec for the parse thread's CPU time (MemberImportVisibility)
import Foundation
public import ReconBills
public import ReconChannels
public import ReconCore
import ReconJobs
public import ReconMatching
public import ReconPostgres

/// Encodes bill lines as COPY rows for `staged_bill_lines`, counting what it encodes: the
/// counts recorded in `bill_fetches` are those of the rows staged, not what the bill declared.
/// Staging uses the binary format; the benchmark writes text for psql's `\copy`.
public struct BillLineEncoder<Row: PGCopyRowFormat> {
    public private(set) var totals = BillSummary()
    public private(set) var row = Row(capacity: 512)
    /// How the channel keys its refunds: what goes into `match_refund_key`.
    public let keyRule: KeyRule

    public init(keyRule: KeyRule) { self.keyRule = keyRule }

    public mutating func encode(_ line: BillLine) {
        row.reset()
        row.append(line.channel)
        row.append(line.billDate.pgDate)
        row.append(Int64(line.lineNumber))
        row.append(line.channelTransactionID)
        row.append(line.originalTransactionID)
        row.append(
            MatchKey(
                transactionID: line.channelTransactionID, refundID: line.refundID, isRefund: line.kind == .refund,
                rule: keyRule
            ).refundID)
        row.append(MatchKey.keyHash(line.channelTransactionID))
        row.append(line.merchantOrderID)
        row.append(line.refundID)
        row.append(line.kind.rawValue)
        row.append(line.amountFen)
        row.append(line.feeFen)
        row.append(line.channelStatus)
        row.append(PGTimestamp(microsecondsSince1970: line.timeMicroseconds))
        row.append(line.flag)
        row.end()
        totals.count(line)
    }

    public static var copyStatement: String {
        "COPY staged_bill_lines (\(BillLineColumns.list)) FROM STDIN \(Row.copyOptions)"
    }
}

public enum BillLineColumns {
    public static let list =
        "channel, bill_date, line_no, channel_txn_id, original_txn_id, match_refund_key, key_hash, merchant_order_id, refund_id, kind, amount_fen, fee_fen, channel_status, txn_time, flag"
}

/// What one fetch stages for its channel-day, run in the job's fenced completion: the old lines
/// of that day go, the bill is parsed straight into `COPY` (the parse on this thread and the
/// server's load overlap, and a million-line bill never sits in memory), and `bill_fetches`
/// describes the result. A check that fails mid-bill throws, so the transaction rolls back and
/// nothing of the bill is staged: `ChannelError.permanent` when the bill contradicts its own
/// totals (fetching it again cannot help), `.transient` for anything a damaged transfer could
/// cause. Running it twice leaves the same rows, never twice as many.
public struct StagedBill: Sendable {
    public var channel: String
    public var day: LocalDay
    /// Nil for a day without business: zero lines. Its path is the archived file.
    public var bill: DownloadedBill?
    /// How the channel keys its refunds (`ChannelDefinition.keyRule`).
    public var keyRule: KeyRule
    public var jobID: Int64
    public var leaseToken: Int64
    public var worker: String
    /// From the job's start until the verified file was archived, recorded with the fetch.
    public var fetchMilliseconds: Int64?

    public init(
        channel: String, day: LocalDay, bill: DownloadedBill?, keyRule: KeyRule, jobID: Int64, leaseToken: Int64,
        worker: String
    ) {
        self.channel = channel
        self.day = day
        self.bill = bill
        self.keyRule = keyRule
        self.jobID = jobID
        self.leaseToken = leaseToken
        self.worker = worker
    }

    public func write(on connection: PGConnection) throws {
        var parseCPUMilliseconds: Int64?
        // Two fetches of one channel-day committing at once (a manual refetch beside the scheduled
        // one) take turns, so the second replaces the first whole rather than interleaving.
        try connection.query(
            "SELECT pg_advisory_xact_lock(hashtext('recon.stage'), hashtext($1 || '/' || $2::text))",
            [channel, day.pgDate],
            name: "stage: lock the channel-day")
        // stage_ms counts from here: time spent waiting for the other staging is not this one's.
        let started = ContinuousClock.now
        try connection.query(
            "DELETE FROM staged_bill_lines WHERE channel = $1 AND bill_date = $2", [channel, day.pgDate],
            name: "stage: drop the day's old lines")
        var totals = BillSummary()
        var report = BillSummary()
        if let bill {
            let parsed = try connection.copyIn(
                BillLineEncoder<PGBinaryCopyRow>.copyStatement, name: "stage: copy lines"
            ) { writer in
                // The parse runs on a thread of its own, the COPY data goes out on this one.
                let pipe = ChunkPipe()
                let producer = BillProducer(bill: bill, keyRule: keyRule, pipe: pipe)
                let thread = Thread { producer.run() }
                thread.start()
                defer { producer.waitUntilDone() }
                do {
                    while let chunk = pipe.take() {
                        try chunk.withUnsafeBytes { try writer.write(raw: $0) }
                    }
                } catch {
                    pipe.cancel()
                    throw error
                }
                producer.waitUntilDone()
                switch producer.outcome {
                case .success(let (lines, summary)):
                    totals = lines
                    report = summary
                    parseCPUMilliseconds = producer.cpuMilliseconds
                case .failure(let error as BillError) where error.contradictsItsTotals:
                    // The same file would fail the same way: no retry can help.
                    throw ChannelError.permanent("bill for \(day) of \(channel) refused, nothing staged: \(error)")
                case .failure(let error):
                    // Possibly a damaged transfer (a cut file, a broken archive): a fresh download may pass.
                    throw ChannelError.transient("bill for \(day) of \(channel) refused, nothing staged: \(error)")
                case nil:
                    throw ChannelError.transient("bill for \(day) of \(channel): the parse did not finish")
                }
            }
            guard parsed == totals.lines else {
                throw ChannelError.transient("staged \(parsed) lines where \(totals.lines) were parsed")
            }
        }
        try connection.query(
            """
            INSERT INTO bill_fetches (channel, bill_date, outcome, file_sha256, file_bytes, archive_path, lines, payments,
                refunds, amount_fen, fee_fen, flagged, fee_rounding_units, declared_totals, job_id, lease_token, worker,
                fetch_ms, stage_ms, parse_cpu_ms, fetched_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, now())
            ON CONFLICT (channel, bill_date) DO UPDATE SET outcome = excluded.outcome, file_sha256 = excluded.file_sha256,
                file_bytes = excluded.file_bytes, archive_path = excluded.archive_path, lines = excluded.lines,
                payments = excluded.payments, refunds = excluded.refunds, amount_fen = excluded.amount_fen,
                fee_fen = excluded.fee_fen, flagged = excluded.flagged, fee_rounding_units = excluded.fee_rounding_units,
                declared_totals = excluded.declared_totals, job_id = excluded.job_id, lease_token = excluded.lease_token,
                worker = excluded.worker, fetch_ms = excluded.fetch_ms, stage_ms = excluded.stage_ms,
                parse_cpu_ms = excluded.parse_cpu_ms, fetched_at = excluded.fetched_at
            """,
            [
                channel, day.pgDate, totals.lines == 0 ? "empty" : "ready", bill?.sha256, bill?.bytes ?? 0, bill?.path,
                totals.lines, totals.payments, totals.refunds, totals.amountFen, totals.feeFen, totals.flagged,
                report.feeRoundingUnits, report.declaredTotals, jobID, leaseToken, worker, fetchMilliseconds,
                (ContinuousClock.now - started).clampedDelayMilliseconds, parseCPUMilliseconds,
            ], name: "stage: record the fetch")
    }
}

/// Parses a bill into COPY rows on its own thread, 256 KiB at a time into a `ChunkPipe`.
private final class BillProducer: @unchecked Sendable {
    // @unchecked: `outcome` is written by the parse thread before `done` is signalled and read
    // only after `waitUntilDone`.
    let bill: DownloadedBill
    let keyRule: KeyRule
    let pipe: ChunkPipe
    private(set) var outcome: Result<(BillSummary, BillSummary), any Error>?
    /// The parse thread's own CPU time (parse and COPY encoding), without time spent waiting.
    private(set) var cpuMilliseconds: Int64 = 0
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    init(bill: DownloadedBill, keyRule: KeyRule, pipe: ChunkPipe) {
        self.bill = bill
        self.keyRule = keyRule
        self.pipe = pipe
    }

    func run() {
        let cpuAtStart = Self.threadCPUMicroseconds()
        var encoder = BillLineEncoder<PGBinaryCopyRow>(keyRule: keyRule)
        var buffer = PGBinaryCopyRow.header
        buffer.reserveCapacity(300 << 10)
        var outside: Int64 = 0
        var firstOutside: BillLine?
        outcome = Result {
            let summary = try bill.parse { line in
                if line.isOutsideTheDay {
                    outside += 1
                    if firstOutside == nil { firstOutside = line }
                }
                encoder.encode(line)
                buffer.append(contentsOf: encoder.row.bytes)
                if buffer.count >= 256 << 10 {
                    try pipe.put(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if BillOfAnotherDay.refuses(outside: outside, of: encoder.totals.lines), let firstOutside {
                throw BillOfAnotherDay(
                    path: bill.path, outside: outside, lines: encoder.totals.lines, first: firstOutside)
            }
            buffer.append(contentsOf: PGBinaryCopyRow.trailer)
            try pipe.put(buffer)
            return (encoder.totals, summary)
        }
        cpuMilliseconds = (Self.threadCPUMicroseconds() - cpuAtStart) / 1000
        pipe.finish()
        done.signal()
    }

    private static func threadCPUMicroseconds() -> Int64 {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
    }

    /// Waits for the parse thread (once; later calls return at once).
    func waitUntilDone() {
        guard !waited else { return }
        waited = true
        done.wait()
    }
}

/// Nearly every line of a bill lies outside the day it was fetched for: another day's bill, sent
/// for this one. Lines outside the day are otherwise staged with a flag (CHANNELS.md §6): a few
/// near midnight, a late refund, a small day of such lines. Refused as transient, like any
/// damaged file: a channel still publishing the day may send the right bill on a later attempt.
struct BillOfAnotherDay: Error, CustomStringConvertible {
    var path: String
    var outside: Int64
    var lines: Int64
    var first: BillLine

    /// At least 20 lines, and at least 90 % of them outside the day (a bank's hour of tolerance
    /// around midnight keeps about one in 24 of the day before inside).
    static func refuses(outside: Int64, of lines: Int64) -> Bool {
        lines >= 20 && outside * 10 >= lines * 9
    }

    var description: String {
        "\(path): \(outside) of its \(lines) lines are outside the day, the first at line \(first.lineNumber): "
            + "\(first.flag ?? "its time"); another day's bill?"
    }
}
