import Foundation
import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconReconcile
import ReconTestSupport
import Testing

/// `recon demo`, the README's first command, run as a user runs it (a small `--legs`), against a
/// test database through `RECON_DATABASE_URL` so that what it printed can be checked against what
/// the database holds afterwards.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct DemoTests {
    @Test func theDemoSettlesTwoDaysAndPrintsWhatTheDatabaseHolds() async throws {
        let database = try await TestPostgres.freshDatabase("demo")
        let run = try runRecon(["demo", "--legs", "2000"], environment: ["RECON_DATABASE_URL": database])
        #expect(run.status == 0, "\(run.output.suffix(3000))")
        let output = run.output
        let first = LocalDay.beijingToday(offset: -2)
        let days = [first, first.adding(days: 1)]
        for day in days { #expect(output.contains("\(day) settled"), "\(output.suffix(3000))") }
        #expect(!output.lowercased().contains("error"), "nothing went wrong, so nothing says error: \(output)")
        #expect(output.contains("the whole run took"))

        let pool = PGPool(connectionString: database, maxConnections: 1)
        defer { pool.close() }
        // The retry the mock asked for: Alipay's first day failed twice, then staged.
        let alipay = try await pool.query(
            """
            SELECT jsonb_array_length(errors), state FROM recon_jobs
            WHERE kind = 'fetch_bill' AND args->>'channel' LIKE 'alipay%' AND args->>'date' = $1
            """, ["\(first)"]
        ).first
        #expect(try alipay?.decode(Int.self, at: 0) == 2 && alipay?.decode(String.self, at: 1) == "completed")

        // Each day's printed table, row by row, against the database.
        let sections = output.components(separatedBy: "\n== ").dropFirst()
        #expect(sections.count == 2)
        for (day, section) in zip(days, sections) {
            let printed = Self.channelTable(section)
            let summary = try await pool.withConnection { try DayReport.summary(day: day, on: $0) }
            let lines = try await pool.query(
                "SELECT channel, lines FROM bill_fetches WHERE bill_date = $1", [day.pgDate]
            ).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1)) }
            let channels = Set(summary.map(\.channel))
            #expect(Set(printed.keys) == channels, "\(day): \(printed.keys.sorted()) vs \(channels.sorted())")
            for channel in channels {
                let rows = summary.filter { $0.channel == channel }
                let items = rows.reduce(0) { $0 + $1.count }
                let matched = rows.first { $0.status == "matched" }?.count ?? 0
                let billLines = lines.first { $0.0 == channel }.map { String($0.1) } ?? "-"
                #expect(
                    printed[channel] == [billLines, String(items), String(matched), String(items - matched)],
                    "\(day) \(channel): printed \(printed[channel] ?? []) for \(billLines) lines, \(items) items")
            }
            // The settlement per business system adds up to the settlement rows.
            let settlement = try #require(
                try await pool.withConnection { try DayReport.settlement(day: day, on: $0) })
            for system in Set(settlement.keys.map(\.businessSystem)) {
                let net = settlement.filter { $0.key.businessSystem == system }.reduce(Int64(0)) {
                    $0 + $1.value.netFen
                }
                let row = section.split(separator: "\n").first { $0.hasPrefix(system + " ") }
                #expect(
                    row?.split(separator: " ").last.map(String.init) == Money.yuanText(fen: net),
                    "\(day) \(system): \(String(describing: row)) for net \(Money.yuanText(fen: net))")
            }
            #expect(section.contains("settlement file: "))
        }
        // The first day's carried items were resolved on the second.
        #expect(output.contains("resolved on \(days[1])"), "\(output)")
    }

    /// The first table of a day's section: channel → [bill lines, items, matched, discrepancies].
    static func channelTable(_ section: String) -> [String: [String]] {
        var rows: [String: [String]] = [:]
        var inTable = false
        for line in section.split(separator: "\n") {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if cells.first == "channel" && cells.contains("matched") {
                inTable = true
                continue
            }
            guard inTable else { continue }
            if line.hasPrefix("discrepancies") { break }
            guard cells.count == 5 else { continue }
            rows[cells[0]] = Array(cells[1...])
        }
        return rows
    }
}
