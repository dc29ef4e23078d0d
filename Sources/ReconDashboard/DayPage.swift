import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconReconcile

/// `/days/DATE`: the day's summary, its discrepancies (filtered by channel or asset, status,
/// open), each with both sides and a form to resolve it, and the settlement.
struct DayPage: Sendable {
    struct SummaryRow: Sendable {
        var channel: String
        var status: String
        var count: String
        var channelAmount: String
        var internalAmount: String
        var discrepancy: Bool
        var link: String
    }

    struct Option: Sendable {
        var value: String
        var selected: Bool
    }

    struct Item: Sendable {
        var id: String
        var source: String
        var key: String
        var refundKey: String?
        var carriedFrom: String?
        var status: String
        var whereText: String?
        var channelAmount: String
        var channelFee: String?
        var channelTime: String?
        /// What the channel says of the money: moved or not (a status_mismatch's other side).
        var channelMoved: String?
        var legID: String?
        var internalAmount: String
        var internalFee: String?
        var legStatus: String?
        var occurredAt: String?
        var businessSystem: String?
        var resolution: DayReport.Resolution?
        /// carried_over items wait for the next day's reconcile, not for a person.
        var canResolve: Bool
    }

    struct SettlementRow: Sendable {
        var businessSystem: String
        var merchant: String
        var channel: String
        var items: String
        var gross: String
        var refunds: String
        var fees: String
        var net: String
    }

    struct Settled: Sendable {
        var settledAt: String
        var discrepancies: String
        var filePath: String?
        var sha256: String?
        var csvLink: String
        var rows: [SettlementRow]
        var totals: SettlementRow
    }

    /// The filters, as the query string gives them.
    struct Filter: Sendable {
        var channel: String?
        var status: MatchStatus?
        var openOnly = false
        /// Which 500 of one channel's (or asset's) items.
        var page = 0

        var query: String {
            var fields: [(String, String)] = []
            if let channel { fields.append(("channel", channel)) }
            if let status { fields.append(("status", status.rawValue)) }
            if openOnly { fields.append(("open", "1")) }
            if page > 0 { fields.append(("page", String(page))) }
            return FormURLEncoding.encode(fields)
        }

        func on(page: Int) -> Filter {
            var other = self
            other.page = page
            return other
        }
    }

    static let itemLimit = 500

    var chrome: Chrome
    var date: String
    var path: String
    var previous: String?
    var previousDate: String?
    var next: String?
    var nextDate: String?
    var flash: String?
    var problem: String?
    var summary: [SummaryRow]
    var hasSummary: Bool
    var channels: [Option]
    var statuses: [Option]
    var openOnly: Bool
    var items: [Item]
    var hasItems: Bool
    var shownText: String
    var previousPage: String?
    var nextPage: String?
    var resolveAction: String
    var csrf: String
    /// Where a resolve form sends the browser back to: this page with its filters.
    var back: String
    var settled: Settled?

    static func load(
        day: LocalDay, filter: Filter, chrome: Chrome, flash: String?, problem: String?, on connection: PGConnection
    ) throws -> DayPage {
        let date = day.description
        let path = "/days/\(date)"
        let summary = try DayReport.summary(day: day, on: connection)
        let summaryRows = summary.map { row in
            SummaryRow(
                channel: row.channel, status: row.status, count: DashboardText.count(row.count),
                channelAmount: DashboardText.yuan(row.channelAmountFen),
                internalAmount: DashboardText.yuan(row.internalAmountFen), discrepancy: row.status != "matched",
                link: path + "?" + Filter(channel: row.channel, status: MatchStatus(rawValue: row.status)).query
                    + "#discrepancies")
        }
        let names = ChannelNames.ordered(summary.map(\.channel))

        // The discrepancies: channels' items first, then the virtual check's; carried_over ones
        // only when asked for (they wait for the next day, not for a person). One channel or
        // asset pages through its items 500 at a time; all of them at once show the first 500.
        var report = DayReport.Filter(status: filter.status)
        report.discrepanciesOnly = true
        report.excludingCarriedOver = true
        report.openOnly = filter.openOnly
        report.limit = itemLimit + 1
        let page = filter.channel == nil ? 0 : max(0, filter.page)
        if page > 0 { report.offset = page * itemLimit }
        var items: [Item] = []
        let wantsVirtual = filter.channel.map(ChannelNames.isAsset) ?? true
        let wantsChannels = filter.channel.map { !ChannelNames.isAsset($0) } ?? true
        if wantsChannels {
            var channelFilter = report
            channelFilter.channel = filter.channel
            items += try DayReport.channelRows(day: day, filter: channelFilter, on: connection).map(Self.item)
        }
        if wantsVirtual && filter.status != .feeMismatch && filter.status != .carriedOver && items.count <= itemLimit {
            var virtualFilter = report
            virtualFilter.asset = filter.channel
            virtualFilter.limit = itemLimit + 1 - items.count
            items += try DayReport.virtualRows(day: day, filter: virtualFilter, on: connection).map(Self.item)
        }
        let more = items.count > itemLimit
        if more { items.removeLast(items.count - itemLimit) }
        let first = page * itemLimit
        var shownText = items.isEmpty ? "none" : "\(first + 1) to \(first + items.count)"
        if more && filter.channel == nil { shownText += "; choose a channel or asset to page through the rest" }
        if filter.status == nil { shownText += " (carried_over items are under their own status)" }

        let known = try connection.query(
            """
            SELECT (SELECT max(bill_date)::text FROM recon_summaries WHERE bill_date < $1),
                   (SELECT min(bill_date)::text FROM recon_summaries WHERE bill_date > $1)
            """, [day.pgDate], name: "dashboard: days around"
        ).first
        let before = try known?.decode(String?.self, at: 0)
        let after = try known?.decode(String?.self, at: 1)
        return DayPage(
            chrome: chrome, date: date, path: path, previous: before.map { "/days/\($0)" }, previousDate: before,
            next: after.map { "/days/\($0)" }, nextDate: after, flash: flash, problem: problem, summary: summaryRows,
            hasSummary: !summaryRows.isEmpty,
            channels: names.map { Option(value: $0, selected: $0 == filter.channel) },
            statuses: MatchStatus.allCases.filter { $0 != .matched }.map {
                Option(value: $0.rawValue, selected: $0 == filter.status)
            }, openOnly: filter.openOnly, items: items, hasItems: !items.isEmpty, shownText: shownText,
            previousPage: page > 0 ? path + "?" + filter.on(page: page - 1).query + "#discrepancies" : nil,
            nextPage: more && filter.channel != nil
                ? path + "?" + filter.on(page: page + 1).query + "#discrepancies" : nil,
            resolveAction: path + "/resolve", csrf: chrome.csrf,
            back: path + (filter.query.isEmpty ? "" : "?" + filter.query), settled: try settled(day, on: connection))
    }

    static func item(_ row: DayReport.ChannelRow) -> Item {
        Item(
            id: "c\(row.id)", source: row.channel, key: row.channelTxnID,
            refundKey: row.refundKey.isEmpty ? nil : row.refundKey, carriedFrom: row.carriedFrom, status: row.status,
            whereText: row.resolvedOn.map { "resolved \($0): \(row.resolvedStatus ?? "")" }
                ?? (row.status == MatchStatus.carriedOver.rawValue ? "awaiting the next day" : nil),
            channelAmount: DashboardText.yuan(row.channelAmountFen),
            channelFee: row.channelFeeFen.map(DashboardText.yuan), channelTime: row.channelTime,
            channelMoved: row.channelMoved.map { $0 ? "money moved" : "no money moved" }, legID: row.legID,
            internalAmount: DashboardText.yuan(row.internalAmountFen),
            internalFee: row.internalFeeFen.map(DashboardText.yuan), legStatus: row.legStatus,
            occurredAt: row.occurredAt,
            businessSystem: row.businessSystem.map { system in row.merchantID.map { "\(system) / \($0)" } ?? system },
            resolution: row.resolution, canResolve: row.status != MatchStatus.carriedOver.rawValue)
    }

    static func item(_ row: DayReport.VirtualRow) -> Item {
        Item(
            id: "v\(row.id)", source: row.asset, key: row.entryID.isEmpty ? "(no ledger entry)" : row.entryID,
            refundKey: nil, carriedFrom: nil, status: row.status, whereText: row.accountID.map { "account \($0)" },
            channelAmount: DashboardText.yuan(row.ledgerAmountFen), channelFee: nil, channelTime: nil,
            channelMoved: nil,
            legID: row.legID, internalAmount: DashboardText.yuan(row.internalAmountFen), internalFee: nil,
            legStatus: row.legStatus, occurredAt: nil, businessSystem: row.businessSystem, resolution: row.resolution,
            canResolve: true)
    }

    static func settled(_ day: LocalDay, on connection: PGConnection) throws -> Settled? {
        guard
            let row = try connection.query(
                """
                SELECT to_char(settled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), discrepancies, file_path,
                       file_sha256
                FROM recon_settled_days WHERE bill_date = $1
                """, [day.pgDate], name: "dashboard: settled day"
            ).first,
            let rows = try DayReport.settlement(day: day, on: connection)
        else { return nil }
        var total = SettlementTotals()
        let settlementRows = rows.keys.sorted().map { key in
            let totals = rows[key] ?? SettlementTotals()
            total.count += totals.count
            total.grossFen += totals.grossFen
            total.refundsFen += totals.refundsFen
            total.feesFen += totals.feesFen
            return Self.row(key.businessSystem, key.merchantID, key.channel, totals)
        }
        return Settled(
            settledAt: try row.decode(String.self, at: 0), discrepancies: DashboardText.count(try row.decode(at: 1)),
            filePath: try row.decode(String?.self, at: 2), sha256: try row.decode(String?.self, at: 3),
            csvLink: "/days/\(day)/settlement.csv", rows: settlementRows, totals: Self.row("", "", "", total))
    }

    static func row(_ system: String, _ merchant: String, _ channel: String, _ totals: SettlementTotals)
        -> SettlementRow
    {
        SettlementRow(
            businessSystem: system, merchant: merchant, channel: channel, items: DashboardText.count(totals.count),
            gross: DashboardText.yuan(totals.grossFen), refunds: DashboardText.yuan(totals.refundsFen),
            fees: DashboardText.yuan(totals.feesFen), net: DashboardText.yuan(totals.netFen))
    }
}
