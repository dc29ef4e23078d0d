import Foundation
import ReconCore
import ReconHTTP
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
        // The days it ran, as it said them ("run_day 2026-12-02: job 1"): not today's date again,
        // which a run across Beijing midnight would change.
        let days = output.split(separator: "\n").compactMap { line -> LocalDay? in
            guard line.hasPrefix("run_day ") else { return nil }
            return LocalDay(String(line.dropFirst("run_day ".count).prefix(10)))
        }
        try #require(days.count == 2, "\(output)")
        let first = days[0]
        #expect(days[1] == first.adding(days: 1))
        for day in days { #expect(output.contains("\(day) settled"), "\(output.suffix(3000))") }
        // Nothing went wrong, so nothing is logged as an error (the channel's own words in a retried
        // fetch's line are not a log line).
        let errorLines = output.split(separator: "\n").filter { $0.hasPrefix("error ") || $0.contains("level=error") }
        #expect(errorLines.isEmpty, "\(errorLines)")
        #expect(output.contains("the whole run took"))

        let pool = PGPool(connectionString: database, maxConnections: 1)
        defer { pool.close() }
        // The retry the mock asked for: Alipay's first day failed twice, then staged.
        let alipay = try await pool.query(
            """
            SELECT jsonb_array_length(errors), state FROM recon_jobs
            WHERE kind = 'fetch_bill' AND args->>'channel' = 'demo-alipay' AND args->>'date' = $1
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
                let carried = rows.first { $0.status == "carried_over" }?.count ?? 0
                let billLines = lines.first { $0.0 == channel }.map { String($0.1) } ?? "-"
                #expect(
                    printed[channel] == [
                        billLines, String(items), String(matched), String(carried), String(items - matched - carried),
                    ],
                    "\(day) \(channel): printed \(printed[channel] ?? []) for \(billLines) lines, \(items) items")
            }
            // The settlement per business system adds up to the settlement rows, column by column.
            let settlement = try #require(
                try await pool.withConnection { try DayReport.settlement(day: day, on: $0) })
            for system in Set(settlement.keys.map(\.businessSystem)) {
                let rows = settlement.filter { $0.key.businessSystem == system }.map(\.value)
                func sum(_ value: (SettlementTotals) -> Int64) -> Int64 { rows.reduce(0) { $0 + value($1) } }
                let amounts = [sum(\.grossFen), sum(\.refundsFen), sum(\.feesFen), sum(\.netFen)]
                let expected = [system, String(sum(\.count))] + amounts.map { Money.yuanText(fen: $0) }
                let row = section.split(separator: "\n").first { $0.hasPrefix(system + " ") }
                #expect(
                    row?.split(separator: " ").map(String.init) == expected,
                    "\(day) \(system): \(String(describing: row)) for \(expected)")
            }
            // The discrepancy table, row by row.
            let printedRows = Set(section.split(separator: "\n").map { $0.split(separator: " ").map(String.init) })
            for row in summary where row.status != "matched" {
                let cells = [
                    row.channel, row.status, String(row.count), Money.yuanText(fen: row.channelAmountFen),
                    Money.yuanText(fen: row.internalAmountFen),
                ]
                #expect(printedRows.contains(cells), "\(day): no printed row \(cells)")
            }
            #expect(section.contains("settlement file: "))
        }
        // The first day's carried items were resolved on the second.
        #expect(output.contains("resolved on \(days[1])"), "\(output)")
    }

    /// `--keep` leaves the coordinator serving the dashboard until Ctrl-C, and says where and
    /// with which token; the token it prints opens the dashboard; Ctrl-C ends the demo.
    @Test func keepServesTheDashboardUntilInterrupted() async throws {
        let database = try await TestPostgres.freshDatabase("demo-keep")
        // --keep writes its files to the current folder: a temporary one here.
        let folder = NSTemporaryDirectory() + "recon-demo-keep-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let demo = try DaemonProcess(
            name: "demo-keep", arguments: ["demo", "--legs", "300", "--keep"],
            environment: ["RECON_DATABASE_URL": database],
            launcher: ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", folder])
        let line = try await demo.waitForLine(containing: "log in to it with the token", timeout: .seconds(180))
        let words = line.components(separatedBy: CharacterSet(charactersIn: " ,"))
        let token = try #require(words.first { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
        let address = try #require(
            demo.output.split(separator: "\n").first { $0.hasPrefix("dashboard: ") }?.dropFirst("dashboard: ".count))
        let login = try await HTTPClient().send(HTTPRequest(url: address + "login"))
        #expect(login.status == 200)
        #expect(String(decoding: login.body, as: UTF8.self).contains("API token"))
        #expect(!demo.output.contains("level=error"))
        // The printed token is the coordinator's: the lease API takes it.
        let lease = try await HTTPClient().send(
            HTTPRequest(
                method: .post, url: address.dropLast() + LeaseAPI.leasePath,
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                body: try JSONEncoder().encode(
                    LeaseRequest(worker: "probe", queues: ["nobody"], count: 1, waitMilliseconds: 0))))
        #expect(lease.status == 200, "\(String(decoding: lease.body, as: UTF8.self))")
        demo.signal(SIGINT)
        #expect(try await demo.waitForExit(timeout: .seconds(60)) == 0)
    }

    /// The first table of a day's section: channel → [bill lines, items, matched, carried over,
    /// discrepancies].
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
            guard cells.count == 6 else { continue }
            rows[cells[0]] = Array(cells[1...])
        }
        return rows
    }
}
