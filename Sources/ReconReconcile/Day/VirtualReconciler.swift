public import ReconCore
import ReconJobs
public import ReconMatching
public import ReconPostgres

/// reconcile_virtual(D) (issue 12, §3 "Virtual accounts"): every virtual leg of the day against
/// the ledger entries naming it, the ledger playing the channel's part, and the day's entries
/// whose leg no payments file holds. Decided on a read-only connection into a spool; committed in
/// the job's fenced completion.
public enum VirtualReconciler {
    public struct Decided: Sendable {
        public var day: LocalDay
        public var spool: String
        public var items: Int64
    }

    static let columns = [
        "bill_date", "leg_id", "entry_id", "asset", "status", "ledger_amount_fen", "internal_amount_fen", "leg_status",
        "business_system", "merchant_id", "account_id",
    ]

    public static func decide(day: LocalDay, spoolPath: String, on connection: PGConnection) throws -> Decided {
        try connection.transaction(name: "reconcile_virtual \(day)") { connection in
            try connection.execute(script: "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", name: "snapshot")
            let legs = try CursorStream(
                "virtual_legs",
                sql: """
                    SELECT leg_id, leg_kind, amount_fen, status, business_system, merchant_id FROM payment_legs
                    WHERE leg_kind <> 'channel' AND business_date = $1 ORDER BY leg_id
                    """, [day.pgDate], on: connection
            ) { row in
                guard let asset = LegKind(rawValue: try row.decode(String.self, at: 1)),
                    let status = LegStatus(rawValue: try row.decode(String.self, at: 3))
                else { throw ReconcileError("a virtual leg has an unknown kind or status") }
                return VirtualLeg(
                    legID: try row.decode(String.self, at: 0), asset: asset,
                    amountFen: try row.decode(Int64.self, at: 2), status: status,
                    businessSystem: try row.decode(String.self, at: 4), merchantID: try row.decode(String.self, at: 5))
            }
            // The entries naming the day's virtual legs, and the day's entries naming no virtual leg.
            let entries = try CursorStream(
                "virtual_entries",
                sql: """
                    SELECT e.entry_id, e.account_id, e.asset, e.leg_id, e.amount_fen FROM ledger_entries e
                    JOIN payment_legs p ON p.leg_id = e.leg_id AND p.leg_kind <> 'channel' AND p.business_date = $1
                    UNION ALL
                    SELECT e.entry_id, e.account_id, e.asset, e.leg_id, e.amount_fen FROM ledger_entries e
                    WHERE e.business_date = $1 AND NOT EXISTS (
                        SELECT 1 FROM payment_legs p WHERE p.leg_id = e.leg_id AND p.leg_kind <> 'channel')
                    ORDER BY 4, 1
                    """, [day.pgDate], on: connection
            ) { row in
                guard let asset = LegKind(rawValue: try row.decode(String.self, at: 2)) else {
                    throw ReconcileError("a ledger entry has an unknown asset")
                }
                return LedgerEntry(
                    entryID: try row.decode(String.self, at: 0), accountID: try row.decode(String.self, at: 1),
                    asset: asset, legID: try row.decode(String.self, at: 3),
                    amountFen: try row.decode(Int64.self, at: 4))
            }
            let spool = try ResultSpool(path: spoolPath)
            var matcher = VirtualMatcher(legs: legs, entries: entries)
            var row = PGBinaryCopyRow(capacity: 256)
            do {
                while let item = try matcher.next() {
                    let status = VirtualAccountRules.decide(item)
                    let leg: VirtualLeg?, entry: LedgerEntry?
                    switch item {
                    case .pair(let l, let e): (leg, entry) = (l, e)
                    case .legOnly(let l): (leg, entry) = (l, nil)
                    case .entryOnly(let e): (leg, entry) = (nil, e)
                    }
                    let legID = leg?.legID ?? entry?.legID ?? ""
                    row.reset()
                    row.append(day.pgDate)
                    row.append(legID)
                    row.append(entry?.entryID ?? "")
                    row.append((leg?.asset ?? entry?.asset)?.rawValue)
                    row.append(status.rawValue)
                    row.append(entry?.amountFen)
                    row.append(leg?.amountFen)
                    row.append(leg?.status.rawValue)
                    row.append(leg?.businessSystem)
                    row.append(leg?.merchantID)
                    row.append(entry?.accountID)
                    row.end()
                    try spool.append(row)
                }
            } catch let error as MatchingError {
                throw ReconcileError("virtual accounts \(day): \(error)", retryable: false)
            }
            try legs.checked()
            try entries.checked()
            try spool.finish()
            return Decided(day: day, spool: spoolPath, items: spool.rows)
        }
    }

    public static func commit(_ decided: Decided, jobID: Int64, on connection: PGConnection) throws {
        let day = decided.day
        try connection.execute(
            script: """
                CREATE TEMP TABLE virtual_results (
                    bill_date date, leg_id text COLLATE "C", entry_id text COLLATE "C", asset text, status text,
                    ledger_amount_fen bigint, internal_amount_fen bigint, leg_status text, business_system text,
                    merchant_id text, account_id text
                ) ON COMMIT DROP
                """, name: "reconcile_virtual: result table")
        try ResultSpool.copy(decided.spool, into: "virtual_results", columns: columns, on: connection)
        // A temporary table has no statistics until analyzed: without them the planner may take the
        // anti-join below for a nested loop over every row.
        try connection.execute(script: "ANALYZE virtual_results", name: "analyze virtual_results")
        _ = try connection.query(
            """
            DELETE FROM recon_virtual_results r WHERE r.bill_date = $1 AND NOT EXISTS (
                SELECT 1 FROM virtual_results v WHERE v.leg_id = r.leg_id AND v.entry_id = r.entry_id)
            """, [day.pgDate], name: "reconcile_virtual: rows no longer there")
        _ = try connection.query(
            ChangedRowsUpsert.sql(
                into: "recon_virtual_results", columns: columns, from: "virtual_results",
                key: ["bill_date", "leg_id", "entry_id"]), name: "reconcile_virtual: upsert results")
        _ = try connection.query(
            """
            DELETE FROM recon_summaries WHERE bill_date = $1 AND channel IN ('pre_deposit', 'points', 'data_traffic')
            """, [day.pgDate], name: "reconcile_virtual: clear summaries")
        _ = try connection.query(
            """
            INSERT INTO recon_summaries (channel, bill_date, status, items, channel_amount_fen, internal_amount_fen)
            SELECT asset, bill_date, status, count(*), coalesce(sum(ledger_amount_fen), 0),
                   coalesce(sum(internal_amount_fen), 0)
            FROM recon_virtual_results WHERE bill_date = $1 GROUP BY asset, bill_date, status
            """, [day.pgDate], name: "reconcile_virtual: summaries")
        _ = try connection.query(
            """
            INSERT INTO recon_virtual_days (bill_date, job_id) VALUES ($1, $2)
            ON CONFLICT (bill_date) DO UPDATE SET checked_at = now(), job_id = EXCLUDED.job_id
            """, [day.pgDate, jobID], name: "reconcile_virtual: the day")
    }
}
