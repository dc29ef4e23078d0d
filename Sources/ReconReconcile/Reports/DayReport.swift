import Foundation
public import ReconCore
import ReconJobs
public import ReconMatching
public import ReconPostgres

/// What `recon report`, `recon summary`, `recon discrepancies` and `recon settlement` read: the
/// day's rows in a stable order (byte order of the keys), and their exact CSV forms (issue 12,
/// §5). Amounts are signed yuan with two decimals, empty where a side is missing.
public enum DayReport {
    /// One item of a channel's day.
    public struct ChannelRow: Sendable, Codable, Equatable {
        public var id: Int64
        public var channel: String
        public var billDate: String
        public var channelTxnID: String
        public var refundKey: String
        public var lane: Int64
        public var legID: String?
        public var status: String
        public var channelAmountFen: Int64?
        public var internalAmountFen: Int64?
        public var carriedFrom: String?
        /// On a carried_over row: where the next day resolved it, and what it said there.
        public var resolvedOn: String?
        public var resolvedStatus: String?
        public var resolution: Resolution?
        /// The rest of each side, for the dashboard (JSON shows them too).
        public var channelFeeFen: Int64?
        public var channelTime: String?
        public var internalFeeFen: Int64?
        public var legStatus: String?
        public var businessSystem: String?
        /// Whether the channel says money moved (a status_mismatch's other side).
        public var channelMoved: Bool?
        public var occurredAt: String?
        public var merchantID: String?
    }

    /// One item of the virtual-account check.
    public struct VirtualRow: Sendable, Codable, Equatable {
        public var id: Int64
        public var asset: String
        public var billDate: String
        public var legID: String
        public var entryID: String
        public var status: String
        public var ledgerAmountFen: Int64?
        public var internalAmountFen: Int64?
        public var resolution: Resolution?
        public var legStatus: String?
        public var businessSystem: String?
        public var accountID: String?
    }

    /// Who resolved a discrepancy, when and why.
    public struct Resolution: Sendable, Codable, Equatable {
        public var note: String
        public var by: String
        public var at: String
    }

    public static let channelHeader = "channel,bill_date,channel_txn_id,leg_id,status,channel_amount,internal_amount"
    public static let virtualHeader = "asset,bill_date,leg_id,entry_id,status,ledger_amount,internal_amount"

    public static func csv(_ row: ChannelRow) -> String {
        [
            CSVText.field(row.channel), row.billDate, CSVText.field(row.channelTxnID), CSVText.field(row.legID ?? ""),
            row.status, amount(row.channelAmountFen), amount(row.internalAmountFen),
        ].joined(separator: ",")
    }

    public static func csv(_ row: VirtualRow) -> String {
        [
            row.asset, row.billDate, CSVText.field(row.legID), CSVText.field(row.entryID), row.status,
            amount(row.ledgerAmountFen), amount(row.internalAmountFen),
        ].joined(separator: ",")
    }

    public static func amount(_ fen: Int64?) -> String { fen.map { Money.yuanText(fen: $0) } ?? "" }

    public struct Filter: Sendable {
        public var channel: String?
        public var status: MatchStatus?
        /// Only discrepancies (anything but matched).
        public var discrepanciesOnly = false
        /// Only discrepancies nobody resolved.
        public var openOnly = false
        /// Leave out carried_over items (awaiting the next day, not a person) unless `status` asks.
        public var excludingCarriedOver = false
        /// Skip this many rows first (paging through one channel).
        public var offset: Int?
        /// The virtual check's rows of this asset only.
        public var asset: String?
        /// At most this many rows (over all channels), in the usual order.
        public var limit: Int?

        public init(channel: String? = nil, status: MatchStatus? = nil) {
            self.channel = channel
            self.status = status
        }
    }

    public static func channelRows(day: LocalDay, filter: Filter, on connection: PGConnection) throws -> [ChannelRow] {
        // One channel at a time: each is a range of the primary key (channel, bill_date, …), read
        // in order, where all channels at once would scan every day of history and sort.
        guard let channel = filter.channel else {
            let channels = try connection.query(
                "SELECT channel FROM recon_channel_days WHERE bill_date = $1 ORDER BY channel", [day.pgDate],
                name: "report: channels of the day"
            ).rows.map { try $0.decode(String.self, at: 0) }
            var rows: [ChannelRow] = []
            for channel in channels {
                var one = filter
                one.channel = channel
                one.limit = filter.limit.map { $0 - rows.count }
                if let left = one.limit, left <= 0 { break }
                rows += try channelRows(day: day, filter: one, on: connection)
            }
            return rows
        }
        var conditions = ["r.bill_date = $1", "r.channel = $2"]
        var parameters: [any PGEncodable] = [day.pgDate, channel]
        if let status = filter.status {
            parameters.append(status.rawValue)
            conditions.append("r.status = $\(parameters.count)")
        }
        if filter.discrepanciesOnly { conditions.append("r.status <> 'matched'") }
        if filter.excludingCarriedOver && filter.status == nil { conditions.append("r.status <> 'carried_over'") }
        if filter.openOnly { conditions.append("x.note IS NULL") }
        return try connection.query(
            """
            SELECT r.id, r.channel, r.bill_date::text, r.channel_txn_id, r.match_refund_key, r.lane::int8, r.leg_id, r.status,
                   r.channel_amount_fen, r.internal_amount_fen, r.carried_from::text, r.resolved_on::text,
                   r.resolved_status, x.note, x.resolved_by, to_char(x.resolved_at AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   r.channel_fee_fen, to_char(r.channel_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   r.internal_fee_fen, r.leg_status, r.business_system, r.channel_moved,
                   to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), r.merchant_id
            FROM recon_results r
            LEFT JOIN recon_resolutions x ON x.scope = 'channel' AND x.bill_date = r.bill_date AND x.channel = r.channel
                AND x.key_a = r.channel_txn_id AND x.key_b = r.match_refund_key AND x.lane = r.lane
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY r.channel_txn_id, r.match_refund_key, r.lane
            \(filter.limit.map { "LIMIT \($0)" } ?? "") \(filter.offset.map { "OFFSET \($0)" } ?? "")
            """, parameters, name: "report: channel rows"
        ).rows.map { row in
            ChannelRow(
                id: try row.decode(Int64.self, at: 0), channel: try row.decode(String.self, at: 1),
                billDate: try row.decode(String.self, at: 2), channelTxnID: try row.decode(String.self, at: 3),
                refundKey: try row.decode(String.self, at: 4), lane: try row.decode(Int64.self, at: 5),
                legID: try row.decode(String?.self, at: 6), status: try row.decode(String.self, at: 7),
                channelAmountFen: try row.decode(Int64?.self, at: 8),
                internalAmountFen: try row.decode(Int64?.self, at: 9),
                carriedFrom: try row.decode(String?.self, at: 10),
                resolvedOn: try row.decode(String?.self, at: 11), resolvedStatus: try row.decode(String?.self, at: 12),
                resolution: try resolution(row, at: 13), channelFeeFen: try row.decode(Int64?.self, at: 16),
                channelTime: try row.decode(String?.self, at: 17), internalFeeFen: try row.decode(Int64?.self, at: 18),
                legStatus: try row.decode(String?.self, at: 19), businessSystem: try row.decode(String?.self, at: 20),
                channelMoved: try row.decode(Bool?.self, at: 21), occurredAt: try row.decode(String?.self, at: 22),
                merchantID: try row.decode(String?.self, at: 23))
        }
    }

    public static func virtualRows(day: LocalDay, filter: Filter, on connection: PGConnection) throws -> [VirtualRow] {
        var conditions = ["v.bill_date = $1"]
        var parameters: [any PGEncodable] = [day.pgDate]
        if let asset = filter.asset {
            parameters.append(asset)
            conditions.append("v.asset = $\(parameters.count)")
        }
        if let status = filter.status {
            parameters.append(status.rawValue)
            conditions.append("v.status = $\(parameters.count)")
        }
        if filter.discrepanciesOnly { conditions.append("v.status <> 'matched'") }
        if filter.openOnly { conditions.append("x.note IS NULL") }
        return try connection.query(
            """
            SELECT v.id, v.asset, v.bill_date::text, v.leg_id, v.entry_id, v.status, v.ledger_amount_fen,
                   v.internal_amount_fen, x.note, x.resolved_by,
                   to_char(x.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   v.leg_status, v.business_system, v.account_id
            FROM recon_virtual_results v
            LEFT JOIN recon_resolutions x ON x.scope = 'virtual' AND x.bill_date = v.bill_date AND x.channel = ''
                AND x.key_a = v.leg_id AND x.key_b = v.entry_id AND x.lane = 0
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY v.leg_id, v.entry_id
            \(filter.limit.map { "LIMIT \($0)" } ?? "") \(filter.offset.map { "OFFSET \($0)" } ?? "")
            """, parameters, name: "report: virtual rows"
        ).rows.map { row in
            VirtualRow(
                id: try row.decode(Int64.self, at: 0), asset: try row.decode(String.self, at: 1),
                billDate: try row.decode(String.self, at: 2), legID: try row.decode(String.self, at: 3),
                entryID: try row.decode(String.self, at: 4), status: try row.decode(String.self, at: 5),
                ledgerAmountFen: try row.decode(Int64?.self, at: 6),
                internalAmountFen: try row.decode(Int64?.self, at: 7),
                resolution: try resolution(row, at: 8), legStatus: try row.decode(String?.self, at: 11),
                businessSystem: try row.decode(String?.self, at: 12), accountID: try row.decode(String?.self, at: 13))
        }
    }

    static func resolution(_ row: PGRow, at column: Int) throws -> Resolution? {
        guard let note = try row.decode(String?.self, at: column) else { return nil }
        return Resolution(
            note: note, by: try row.decode(String.self, at: column + 1), at: try row.decode(String.self, at: column + 2)
        )
    }

    // MARK: Summary and settlement

    public struct SummaryRow: Sendable, Codable, Equatable {
        public var channel: String
        public var status: String
        public var count: Int64
        public var channelAmountFen: Int64
        public var internalAmountFen: Int64
    }

    public static func summary(day: LocalDay, on connection: PGConnection) throws -> [SummaryRow] {
        try connection.query(
            """
            SELECT channel, status, items, channel_amount_fen, internal_amount_fen FROM recon_summaries
            WHERE bill_date = $1
            ORDER BY channel, array_position(ARRAY['matched', 'amount_mismatch', 'status_mismatch', 'fee_mismatch',
                'channel_only', 'internal_only', 'carried_over'], status)
            """, [day.pgDate], name: "summary rows"
        ).rows.map { row in
            SummaryRow(
                channel: try row.decode(String.self, at: 0), status: try row.decode(String.self, at: 1),
                count: try row.decode(Int64.self, at: 2), channelAmountFen: try row.decode(Int64.self, at: 3),
                internalAmountFen: try row.decode(Int64.self, at: 4))
        }
    }

    /// The day's settlement rows, or nil when the day is not settled.
    public static func settlement(day: LocalDay, on connection: PGConnection) throws -> [SettlementKey:
        SettlementTotals]?
    {
        guard
            try connection.query(
                "SELECT 1 FROM recon_settled_days WHERE bill_date = $1", [day.pgDate], name: "settlement: settled?"
            ).rowCount == 1
        else { return nil }
        var rows: [SettlementKey: SettlementTotals] = [:]
        for row in try connection.query(
            """
            SELECT business_system, merchant_id, channel, items, gross_fen, refunds_fen, fees_fen
            FROM recon_settlements WHERE bill_date = $1
            """, [day.pgDate], name: "settlement rows"
        ).rows {
            rows[
                SettlementKey(
                    businessSystem: try row.decode(String.self, at: 0), merchantID: try row.decode(String.self, at: 1),
                    channel: try row.decode(String.self, at: 2))] = SettlementTotals(
                    count: try row.decode(Int64.self, at: 3), grossFen: try row.decode(Int64.self, at: 4),
                    refundsFen: try row.decode(Int64.self, at: 5), feesFen: try row.decode(Int64.self, at: 6))
        }
        return rows
    }

    // MARK: Resolutions

    /// Records who resolved discrepancy `id` (`c<n>` for a channel item, `v<n>` for a virtual
    /// one, as `recon discrepancies` prints them), keyed by the item's natural key so that it
    /// survives reruns of the day; a second resolution replaces the first (the CLI's explicit
    /// correction). Returns what was resolved, for the message.
    public static func resolve(id: String, note: String, by: String, on connection: PGConnection) throws -> String {
        switch try record(id: id, note: note, by: by, day: nil, replacing: true, on: connection) {
        case .resolved(let what): return what
        case .notOpen, .alreadyResolved: throw ReconcileError("no open discrepancy has the id \(id)", retryable: false)
        }
    }

    public enum ResolveOutcome: Sendable, Equatable {
        case resolved(String)
        /// Someone resolved it first (another person, or this one in another tab): kept as it is.
        case alreadyResolved(Resolution)
        /// No such item on that day, or it is matched.
        case notOpen
    }

    /// The dashboard's resolve: only an item of `day`, and never over someone else's resolution
    /// (two people on the same item, a stale page or the back button would replace it silently).
    public static func resolveOnce(id: String, note: String, by: String, day: LocalDay, on connection: PGConnection)
        throws -> ResolveOutcome
    {
        try record(id: id, note: note, by: by, day: day, replacing: false, on: connection)
    }

    static func record(
        id: String, note: String, by: String, day: LocalDay?, replacing: Bool, on connection: PGConnection
    ) throws -> ResolveOutcome {
        guard let number = Int64(id.dropFirst()), id.first == "c" || id.first == "v" else {
            throw ReconcileError("\(id) is no discrepancy id: they look like c123 (a channel item) or v45 (virtual)")
        }
        let channel = id.first == "c"
        let (table, keys, what, scope) =
            channel
            ? (
                "recon_results", "'channel', bill_date, channel, channel_txn_id, match_refund_key, lane",
                "channel || ' ' || bill_date || ' ' || key_a", "channel"
            )
            : (
                "recon_virtual_results", "'virtual', bill_date, '', leg_id, entry_id, 0",
                "'virtual ' || bill_date || ' ' || key_a", "virtual"
            )
        let onConflict =
            replacing
            ? "DO UPDATE SET note = EXCLUDED.note, resolved_by = EXCLUDED.resolved_by, resolved_at = now()"
            : "DO NOTHING"
        var parameters: [any PGEncodable] = [number, note, by]
        var dayCondition = ""
        if let day {
            parameters.append(day.pgDate)
            dayCondition = "AND bill_date = $4"
        }
        let inserted = try connection.query(
            """
            INSERT INTO recon_resolutions (scope, bill_date, channel, key_a, key_b, lane, note, resolved_by)
            SELECT \(keys), $2, $3 FROM \(table) WHERE id = $1 AND status <> 'matched' \(dayCondition)
            ON CONFLICT (scope, bill_date, channel, key_a, key_b, lane) \(onConflict)
            RETURNING \(what)
            """, parameters, name: "resolve a \(scope) item")
        if let what = try inserted.first?.decode(String.self, at: 0) { return .resolved(what) }
        // Nothing inserted: the item is not open on that day, or it was resolved already.
        let join =
            channel
            ? "x.scope = 'channel' AND x.channel = r.channel AND x.key_a = r.channel_txn_id AND x.key_b = r.match_refund_key AND x.lane = r.lane"
            : "x.scope = 'virtual' AND x.channel = '' AND x.key_a = r.leg_id AND x.key_b = r.entry_id AND x.lane = 0"
        let existing = try connection.query(
            """
            SELECT x.note, x.resolved_by, to_char(x.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM \(table) r JOIN recon_resolutions x ON x.bill_date = r.bill_date AND \(join)
            WHERE r.id = $1 AND r.status <> 'matched' \(day == nil ? "" : "AND r.bill_date = $2")
            """, day.map { [number, $0.pgDate] } ?? [number], name: "resolve: existing resolution")
        guard let row = existing.first, let resolution = try Self.resolution(row, at: 0) else { return .notOpen }
        return .alreadyResolved(resolution)
    }
}
