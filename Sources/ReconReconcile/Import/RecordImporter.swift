public import Foundation
import ReconBills
import ReconCalendar
import ReconCore
import ReconJobs
public import ReconMatching
public import ReconPostgres
import ReconRecords

/// `recon import-payments` and `recon import-ledger`, in the caller's transaction. A file streams
/// through the row checks into a binary COPY straight into its table, the common case of rows
/// never imported before, whose checks the table's unique indexes make for nothing. When an index
/// refuses a row (a re-import, a changed row, a duplicate), the COPY is taken back and the rows,
/// kept meanwhile in a spool file, go to a temporary table instead: checks that name the lines,
/// then one `INSERT … ON CONFLICT DO UPDATE`. Idempotent on the ids (the same file twice leaves
/// the same rows; a changed row replaces the old one) and all-or-nothing: any bad row, duplicate
/// id or duplicate key refuses the whole file, naming up to `shownProblems` places and counting
/// the rest.
public enum RecordImporter {
    public static let shownProblems = 20

    /// How a configured channel keys its refunds and which time zone its business day is in. The
    /// zone is asked for its offset at each leg's instant: an offset taken once would be wrong on
    /// the other side of a daylight-saving or rule change.
    public struct ChannelKeying: Sendable {
        public var rule: KeyRule
        private var timeZone: TimeZone?
        private var fixedOffsetSeconds: Int64

        public init(rule: KeyRule, timeZone: TimeZone) {
            self.rule = rule
            self.timeZone = timeZone
            fixedOffsetSeconds = 0
        }

        /// A zone `utcOffsetSeconds` east of UTC all year.
        public init(rule: KeyRule, utcOffsetSeconds: Int64) {
            self.rule = rule
            timeZone = nil
            fixedOffsetSeconds = utcOffsetSeconds
        }

        /// The zone's offset from UTC at `instant` (seconds since 1970).
        public func utcOffsetSeconds(at instant: Int64) -> Int64 {
            timeZone.map { ZoneTime.offsetSeconds($0, at: instant) } ?? fixedOffsetSeconds
        }
    }

    /// Beijing, where virtual-account legs and the ledger keep their days.
    static let beijingOffsetSeconds: Int64 = 8 * 3600

    // MARK: - Payments

    static let legColumns = [
        "leg_id", "order_id", "business_system", "merchant_id", "leg_kind", "channel", "channel_txn_id", "refund_id",
        "match_refund_key", "key_hash", "direction", "amount_fen", "fee_fen", "status", "occurred_at",
        "business_date",
    ]

    public static func importPayments(
        _ input: ImportInput, channels: [String: ChannelKeying], on connection: PGConnection
    ) throws -> ImportSummary {
        let file = PaymentsFile(channels: channels.mapValues(\.rule))
        let loaded = try load(
            input, into: "payment_legs", columns: legColumns, on: connection,
            checkHeader: PaymentsFile.checkHeader, parse: file.record
        ) { leg, row in
            let instant = CivilCalendar.floorDivide(leg.occurredAtMicroseconds, by: 1_000_000)
            let offset = leg.channel.flatMap { channels[$0]?.utcOffsetSeconds(at: instant) } ?? beijingOffsetSeconds
            row.append(leg.legID)
            row.append(leg.orderID)
            row.append(leg.businessSystem)
            row.append(leg.merchantID)
            row.append(leg.kind.rawValue)
            row.append(leg.channel)
            row.append(leg.channelTransactionID)
            row.append(leg.refundID)
            row.append(leg.key?.refundID)
            row.append(leg.key.map { MatchKey.keyHash($0.transactionID) })
            row.append(leg.direction.rawValue)
            row.append(leg.amountFen)
            row.append(leg.feeFen)
            row.append(leg.status.rawValue)
            row.append(PGTimestamp(microsecondsSince1970: leg.occurredAtMicroseconds))
            row.append(businessDate(leg.occurredAtMicroseconds, offsetSeconds: offset))
        }
        if let summary = loaded.allNew { return summary }
        var problems = ProblemList(label: input.label)
        try duplicateIDs(in: "import_payment_legs", id: "leg_id", on: connection, into: &problems)
        for duplicate in try connection.query(
            """
            SELECT channel, business_date, channel_txn_id, match_refund_key, min(line_no), max(line_no)
            FROM import_payment_legs WHERE leg_kind = 'channel'
            GROUP BY channel, business_date, channel_txn_id, match_refund_key HAVING count(*) > 1
            ORDER BY min(line_no) LIMIT \(shownProblems + 1)
            """, name: "import payments: duplicate keys"
        ).rows {
            let key = try MatchKey(
                transactionID: duplicate.decode(String.self, at: 2), refundID: duplicate.decode(String.self, at: 3))
            problems.add(
                "\(try duplicate.decode(Int64.self, at: 5)): channel_txn_id: \(try duplicate.decode(String.self, at: 0)) "
                    + "\(try duplicate.decode(PGDate.self, at: 1)) key \(key) is already on line "
                    + "\(try duplicate.decode(Int64.self, at: 4))")
        }
        // A key this file gives to one leg that an earlier import gave to another.
        for conflict in try connection.query(
            """
            SELECT i.line_no, i.channel, i.business_date, i.channel_txn_id, i.match_refund_key, p.leg_id
            FROM import_payment_legs i
            JOIN payment_legs p ON p.leg_kind = 'channel' AND p.channel = i.channel
                AND p.business_date = i.business_date AND p.channel_txn_id = i.channel_txn_id
                AND p.match_refund_key = i.match_refund_key AND p.leg_id <> i.leg_id
            WHERE i.leg_kind = 'channel' AND NOT EXISTS (SELECT 1 FROM import_payment_legs m WHERE m.leg_id = p.leg_id)
            ORDER BY i.line_no LIMIT \(shownProblems + 1)
            """, name: "import payments: keys held by other legs"
        ).rows {
            let key = try MatchKey(
                transactionID: conflict.decode(String.self, at: 3), refundID: conflict.decode(String.self, at: 4))
            problems.add(
                "\(try conflict.decode(Int64.self, at: 0)): channel_txn_id: \(try conflict.decode(String.self, at: 1)) "
                    + "\(try conflict.decode(PGDate.self, at: 2)) key \(key) belongs to leg "
                    + "\(try conflict.decode(String.self, at: 5)), imported earlier")
        }
        try problems.throwIfAny()
        return try upsert(
            into: "payment_legs", from: "import_payment_legs", key: "leg_id", columns: legColumns, rows: loaded.rows,
            on: connection)
    }

    // MARK: - Ledger

    static let entryColumns = [
        "entry_id", "account_id", "asset", "leg_id", "amount_fen", "occurred_at", "business_date",
    ]

    public static func importLedger(_ input: ImportInput, on connection: PGConnection) throws -> ImportSummary {
        let loaded = try load(
            input, into: "ledger_entries", columns: entryColumns, on: connection,
            checkHeader: LedgerFile.checkHeader, parse: LedgerFile.record
        ) { entry, row in
            row.append(entry.entryID)
            row.append(entry.accountID)
            row.append(entry.asset.rawValue)
            row.append(entry.legID)
            row.append(entry.amountFen)
            row.append(PGTimestamp(microsecondsSince1970: entry.occurredAtMicroseconds))
            row.append(businessDate(entry.occurredAtMicroseconds, offsetSeconds: beijingOffsetSeconds))
        }
        if let summary = loaded.allNew { return summary }
        var problems = ProblemList(label: input.label)
        try duplicateIDs(in: "import_ledger_entries", id: "entry_id", on: connection, into: &problems)
        try problems.throwIfAny()
        return try upsert(
            into: "ledger_entries", from: "import_ledger_entries", key: "entry_id", columns: entryColumns,
            rows: loaded.rows,
            on: connection)
    }

    // MARK: - Shared

    /// Where `load` left a file's rows.
    struct Loaded {
        var rows: Int64
        /// False: all new, COPYed straight into the table, nothing more to do. True: in
        /// `import_<table>`, for the checks and the upsert.
        var staged: Bool

        /// What the import did when nothing was staged.
        var allNew: ImportSummary? { staged ? nil : ImportSummary(rows: rows, inserted: rows, updated: 0) }
    }

    /// Streams `input` through the header check and `parse` into a binary COPY of `table` under a
    /// savepoint, each row also kept in a spool file with its line number. Bad rows are counted to
    /// the end of the file (so the message says how many), then the COPY is aborted and nothing of
    /// it lands. When a unique index refuses a row, the savepoint takes the COPY back and the spool
    /// goes into `import_<table>`, a temporary copy of `table`'s columns with the line numbers.
    static func load<Record>(
        _ input: ImportInput, into table: String, columns: [String], on connection: PGConnection,
        checkHeader: ([[UInt8]], Int) throws(RecordProblem) -> Void,
        parse: ([[UInt8]], Int) throws(RecordProblem) -> Record,
        encode: (Record, inout PGBinaryCopyRow) -> Void
    ) throws -> Loaded {
        let spool = try ResultSpool(path: NSTemporaryDirectory() + "recon-import-\(UUID().uuidString).copy")
        defer { spool.remove() }
        var problems = ProblemList(label: input.label)
        var loaded: Int64 = 0
        // False once the server has spoken mid-COPY (it refused a row, most likely): the rest only
        // goes to the spool, and the COPY is ended normally so that the server's own error says
        // what happened.
        var direct = true
        try connection.execute(script: "SAVEPOINT import_direct", name: "import: savepoint")
        let attempt = Result { () throws -> Int64 in
            try connection.copyIn(
                "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN (FORMAT binary)",
                name: "import: copy rows into \(table)"
            ) { writer in
                try PGBinaryCopyRow.header.withUnsafeBytes { try writer.write(raw: $0) }
                var reader = CSVRecordReader()
                var sawHeader = false
                var row = PGBinaryCopyRow(capacity: 512)
                func take(_ record: CSVRecordReader.Record) throws {
                    guard sawHeader else {
                        sawHeader = true
                        do { try checkHeader(record.fields, record.line) } catch { problems.add(error) }
                        return
                    }
                    // A blank line (a file ending in two line breaks) is no row.
                    if record.fields.count == 1, record.fields[0].isEmpty { return }
                    let value: Record
                    do {
                        value = try parse(record.fields, record.line)
                    } catch {
                        return problems.add(error)
                    }
                    // After the first bad row the rest are only checked, to count them.
                    guard problems.isEmpty else { return }
                    row.reset()
                    encode(value, &row)
                    row.end()
                    if direct {
                        try writer.write(row)
                        if loaded % 4096 == 0, writer.serverHasAnswered() { direct = false }
                    }
                    row.append(Int64(record.line))
                    row.end()
                    try spool.append(row)
                    loaded += 1
                }
                do {
                    try input.read { chunk in try reader.feed(chunk, emit: take) }
                    try reader.finish(emit: take)
                } catch let failure as CSVRecordReader.Failure {
                    problems.add(RecordProblem(line: failure.line, column: nil, message: "CSV: \(failure.reason)"))
                }
                if !sawHeader {
                    problems.add(RecordProblem(line: 1, column: nil, message: "the file is empty: no header line"))
                }
                try problems.throwIfAny()
                try PGBinaryCopyRow.trailer.withUnsafeBytes { try writer.write(raw: $0) }
            }
        }
        switch attempt {
        case .success(let copied) where copied == loaded:
            try connection.execute(script: "RELEASE SAVEPOINT import_direct", name: "import: release savepoint")
            return Loaded(rows: loaded, staged: false)
        case .success:
            // The server spoke without refusing (a notice): the COPY holds only the rows sent
            // before, so it is taken back and the whole file goes the staged way.
            break
        case .failure(let error as PGError) where error.sqlState == PGError.uniqueViolation:
            break
        case .failure(let error):
            // Bad rows (named), a cancel, a timeout, a lost connection: as they are.
            throw error
        }
        try connection.execute(
            script: "ROLLBACK TO SAVEPOINT import_direct; RELEASE SAVEPOINT import_direct",
            name: "import: take the copy back")
        let staging = "import_\(table)"
        try connection.execute(
            script: """
                CREATE TEMP TABLE \(staging) ON COMMIT DROP AS
                    SELECT \(columns.joined(separator: ", ")), 0::bigint AS line_no FROM \(table) WITH NO DATA
                """, name: "import: staging table")
        try spool.finish()
        try ResultSpool.copy(spool.path, into: staging, columns: columns + ["line_no"], on: connection)
        return Loaded(rows: loaded, staged: true)
    }

    /// Each id on two lines of the file, naming both.
    static func duplicateIDs(
        in staging: String, id: String, on connection: PGConnection, into problems: inout ProblemList
    ) throws {
        for duplicate in try connection.query(
            """
            SELECT \(id), min(line_no), max(line_no) FROM \(staging)
            GROUP BY \(id) HAVING count(*) > 1 ORDER BY min(line_no) LIMIT \(shownProblems + 1)
            """, name: "import: duplicate ids"
        ).rows {
            problems.add(
                "\(try duplicate.decode(Int64.self, at: 2)): \(id): \(try duplicate.decode(String.self, at: 0)) "
                    + "is already on line \(try duplicate.decode(Int64.self, at: 1))")
        }
    }

    /// Moves the staged rows into place: new ids inserted, changed rows replaced, identical rows
    /// left alone (so a re-import writes nothing).
    static func upsert(
        into table: String, from staging: String, key: String, columns: [String], rows: Int64,
        on connection: PGConnection
    ) throws -> ImportSummary {
        let result = try connection.query(
            """
            WITH written AS (
                \(ChangedRowsUpsert.sql(
                    into: table, columns: columns, from: staging, key: [key], alsoSet: ["imported_at = now()"],
                    returning: "(xmax = 0) AS inserted"))
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
            """, name: "import: upsert \(table)")
        guard let counts = result.first else { return ImportSummary(rows: rows, inserted: 0, updated: 0) }
        return ImportSummary(
            rows: rows, inserted: try counts.decode(Int64.self, at: 0), updated: try counts.decode(Int64.self, at: 1))
    }

    /// The calendar day of an instant in a zone `offsetSeconds` east of UTC.
    static func businessDate(_ microseconds: Int64, offsetSeconds: Int64) -> PGDate {
        let seconds = CivilCalendar.floorDivide(microseconds, by: 1_000_000) + offsetSeconds
        return LocalDay(dayNumber: Int(CivilCalendar.floorDivide(seconds, by: 86_400))).pgDate
    }
}

/// The first problems of a file, and a count of the rest.
struct ProblemList {
    let label: String
    private(set) var shown: [String] = []
    private(set) var more = 0

    init(label: String) { self.label = label }

    var isEmpty: Bool { shown.isEmpty }

    mutating func add(_ problem: RecordProblem) {
        add(
            problem.column.map { "\(problem.line): \($0): \(problem.message)" } ?? "\(problem.line): \(problem.message)"
        )
    }

    mutating func add(_ text: String) {
        if shown.count < RecordImporter.shownProblems { shown.append(text) } else { more += 1 }
    }

    func throwIfAny() throws(ImportError) {
        guard !shown.isEmpty else { return }
        throw ImportError(label: label, problems: shown, more: more)
    }
}
