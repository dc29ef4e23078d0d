import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres

/// `/`: the 30 days through the latest reconciled one (or `?through=`), per channel and
/// virtual asset: items, matched share, discrepancies (open and all) and their amounts.
struct DaysPage: Sendable {
    struct Day: Sendable {
        var date: String
        var items: String
        var matched: String
        var share: String
        var discrepancies: String
        var hasDiscrepancies: Bool
        var open: String
        var hasOpen: Bool
        var carried: String
        var hasCarried: Bool
        var channelAmount: String
        var internalAmount: String
        /// channel − internal over the discrepancies: what the day is off by.
        var difference: String
        var dayLink: String
        var discrepanciesLink: String
        var openLink: String
        var carriedLink: String
    }

    struct Series: Sendable {
        var name: String
        var anchor: String
        var kind: String
        var maxCount: String
        var chart: DayChart
        /// Newest first.
        var days: [Day]
    }

    var chrome: Chrome
    var through: String
    var hasDays: Bool
    var series: [Series]

    /// What the summaries say about one channel-day.
    struct Tally {
        var items: Int64 = 0
        var matched: Int64 = 0
        var discrepancies: Int64 = 0
        var carried: Int64 = 0
        var open: Int64 = 0
        var channelFen: Int64 = 0
        var internalFen: Int64 = 0
    }

    static func load(through requested: LocalDay?, chrome: Chrome, on connection: PGConnection) throws -> DaysPage {
        let latest =
            try requested
            ?? connection.query("SELECT max(bill_date)::text FROM recon_summaries", name: "dashboard: latest day")
            .first.flatMap { try $0.decode(String?.self, at: 0) }.flatMap(LocalDay.init)
        guard let through = latest else {
            return DaysPage(chrome: chrome, through: "", hasDays: false, series: [])
        }
        let from = through.adding(days: -29)
        var tallies: [String: [String: Tally]] = [:]
        for row in try connection.query(
            """
            SELECT channel, bill_date::text, status, items, channel_amount_fen, internal_amount_fen
            FROM recon_summaries WHERE bill_date BETWEEN $1 AND $2
            """, [from.pgDate, through.pgDate], name: "dashboard: summaries of the days"
        ).rows {
            let channel = try row.decode(String.self, at: 0)
            let date = try row.decode(String.self, at: 1)
            let status = try row.decode(String.self, at: 2)
            let items = try row.decode(Int64.self, at: 3)
            var tally = tallies[channel, default: [:]][date, default: Tally()]
            tally.items += items
            switch status {
            case MatchStatus.matched.rawValue: tally.matched += items
            case MatchStatus.carriedOver.rawValue: tally.carried += items
            default:
                tally.discrepancies += items
                tally.channelFen += try row.decode(Int64.self, at: 4)
                tally.internalFen += try row.decode(Int64.self, at: 5)
            }
            tallies[channel, default: [:]][date] = tally
        }
        // Open: discrepancies (not carried over) that nobody has resolved.
        for row in try connection.query(
            """
            SELECT r.channel, r.bill_date::text, count(*) FROM recon_results r
            LEFT JOIN recon_resolutions x ON x.scope = 'channel' AND x.bill_date = r.bill_date AND x.channel = r.channel
                AND x.key_a = r.channel_txn_id AND x.key_b = r.match_refund_key AND x.lane = r.lane
            WHERE r.bill_date BETWEEN $1 AND $2 AND r.status NOT IN ('matched', 'carried_over') AND x.note IS NULL
            GROUP BY 1, 2
            UNION ALL
            SELECT v.asset, v.bill_date::text, count(*) FROM recon_virtual_results v
            LEFT JOIN recon_resolutions x ON x.scope = 'virtual' AND x.bill_date = v.bill_date AND x.channel = ''
                AND x.key_a = v.leg_id AND x.key_b = v.entry_id AND x.lane = 0
            WHERE v.bill_date BETWEEN $1 AND $2 AND v.status <> 'matched' AND x.note IS NULL
            GROUP BY 1, 2
            """, [from.pgDate, through.pgDate], name: "dashboard: open discrepancies of the days"
        ).rows {
            let channel = try row.decode(String.self, at: 0)
            let date = try row.decode(String.self, at: 1)
            tallies[channel, default: [:]][date, default: Tally()].open += try row.decode(Int64.self, at: 2)
        }
        let dates = (0..<30).map { from.adding(days: $0).description }
        let names = ChannelNames.ordered(tallies.keys)
        let series = names.map { name in
            let byDate = tallies[name] ?? [:]
            let days: [Day] = dates.reversed().compactMap { date in
                guard let tally = byDate[date] else { return nil }
                return Self.day(name: name, date: date, tally)
            }
            let maxCount = byDate.values.map(\.discrepancies).max() ?? 0
            return Series(
                name: name, anchor: ChannelNames.anchor(name),
                kind: ChannelNames.isAsset(name) ? "virtual asset" : "channel",
                maxCount: DashboardText.count(maxCount),
                chart: DayChart(name: name, dates: dates, tallies: byDate), days: days)
        }
        return DaysPage(chrome: chrome, through: through.description, hasDays: true, series: series)
    }

    static func day(name: String, date: String, _ tally: Tally) -> Day {
        let link = "/days/\(date)"
        let filtered = link + "?" + FormURLEncoding.encode([("channel", name)])
        return Day(
            date: date, items: DashboardText.count(tally.items), matched: DashboardText.count(tally.matched),
            share: tally.items == 0 ? "" : DashboardText.share(basisPoints: tally.matched * 10_000 / tally.items),
            discrepancies: DashboardText.count(tally.discrepancies), hasDiscrepancies: tally.discrepancies > 0,
            open: DashboardText.count(tally.open), hasOpen: tally.open > 0, carried: DashboardText.count(tally.carried),
            hasCarried: tally.carried > 0, channelAmount: DashboardText.yuan(tally.channelFen),
            internalAmount: DashboardText.yuan(tally.internalFen),
            difference: DashboardText.yuan(tally.channelFen - tally.internalFen), dayLink: link,
            discrepanciesLink: filtered + "#discrepancies", openLink: filtered + "&open=1#discrepancies",
            carriedLink: filtered + "&status=carried_over#discrepancies")
    }
}
