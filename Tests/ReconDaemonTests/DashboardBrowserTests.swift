import Crypto
import Foundation
import ReconCore
import ReconHTTP
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconTestSupport
import Testing

/// The dashboard as an operator uses it, in Debian's headless Chromium against a coordinator
/// process serving the days `recon demo` reconciled: log in, read the days and check them
/// against the database, filter a day and resolve a discrepancy through its form, download the
/// settlement, retry a dead job, log out. Screenshots of each page are saved
/// (`RECON_SCREENSHOTS`, or a temporary folder the test prints).
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct DashboardBrowserTests {
    struct Cells: Decodable {
        var id: String
        var rows: [[String]]
        var bars: Int
    }

    @Test func anOperatorLogsInChecksTheDaysResolvesADiscrepancyAndRetriesADeadJob() async throws {
        let executable = try #require(
            HeadlessChromium.executable, "Chromium is missing: scripts/install-deps installs Debian's chromium")
        let database = try await TestPostgres.freshDatabase("dashboard")
        let demo = try runRecon(["demo", "--legs", "800"], environment: ["RECON_DATABASE_URL": database])
        try #require(demo.status == 0, "\(demo.output.suffix(3000))")

        let harness = try await DaemonHarness(label: "dashboard", databaseURL: database)
        let pool = harness.pool
        let days = try await pool.query("SELECT DISTINCT bill_date::text FROM recon_summaries ORDER BY 1").rows.map {
            try $0.decode(String.self, at: 0)
        }
        try #require(days.count == 2)
        let (first, second) = (days[0], days[1])
        // A job that died: one attempt, failed for good, as a channel's 401 ends.
        let deadID = try await harness.enqueue([
            NewJob(
                kind: "probe", queue: "dashboard-test", args: #"{"note":"dies"}"#, retry: RetryPolicy(maxAttempts: 1))
        ])[0]
        try await pool.transaction { connection in
            let leased = try JobLedger.claim(
                worker: "worker-x", queues: ["dashboard-test"], limit: 1, leaseMilliseconds: 30_000, on: connection)
            var random = SystemRandomNumberGenerator()
            _ = try JobLedger.fail(
                LeaseRef(id: deadID, token: leased[0].token), worker: "worker-x",
                error: "alipay answered 401: the channel refused the key", retryable: false, on: connection,
                random: &random)
        }
        #expect(try await harness.jobState(deadID).state == "dead")

        let base = try await harness.startCoordinator()
        let chrome = try HeadlessChromium(executable: executable)
        let shots =
            ProcessInfo.processInfo.environment["RECON_SCREENSHOTS"]
            ?? NSTemporaryDirectory() + "recon-dashboard-screenshots"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        print("dashboard screenshots in \(shots)")
        let token = harness.token
        do {
            try await chrome.run { try $0.openTab() }

            // Not logged in: the login form, which brings the browser back where it was going.
            try await chrome.run { try $0.navigate(base + "/jobs") }
            #expect(chrome.location.hasPrefix(base + "/login?next="))
            try await chrome.run { browser in
                try browser.fill("#name", "Wang Fang")
                try browser.fill("#token", "not-the-token")
                try browser.click("form.login button")
            }
            #expect(
                try await chrome.run { try $0.string("document.querySelector('.error').innerText") }
                    == "That is not the API token.")
            try await chrome.run { browser in
                try browser.fill("#token", token)
                try browser.click("form.login button")
            }
            #expect(chrome.location == base + "/jobs")
            let cookies = try await chrome.run { try $0.cookies() }
            let session = try #require(cookies.first { $0.name == "recon_session" })
            #expect(session.httpOnly)
            #expect(session.sameSite == "Strict")
            // HttpOnly: the page's own scripts cannot read it.
            #expect(try await chrome.run { try $0.string("document.cookie") }.contains("recon_session") == false)
            let sessionCookie = session.value

            // Days: per channel and asset, the latest day's figures are the summaries'.
            try await chrome.run { try $0.navigate(base + "/") }
            let sections = try await chrome.run { browser in
                try JSONDecoder().decode(
                    [Cells].self,
                    from: Data(
                        try browser.string(
                            """
                            JSON.stringify([...document.querySelectorAll('section.card')].map(s => ({id: s.id,
                              bars: s.querySelectorAll('svg.chart rect.bar').length,
                              rows: [...s.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(c => c.innerText.trim()))})))
                            """
                        ).utf8))
            }
            // From the items themselves, not the summaries the page reads.
            let tallies = try await pool.query(
                """
                SELECT channel, bill_date::text, count(*), count(*) FILTER (WHERE status = 'matched'),
                       count(*) FILTER (WHERE status NOT IN ('matched', 'carried_over')),
                       count(*) FILTER (WHERE status NOT IN ('matched', 'carried_over') AND NOT resolved),
                       coalesce(sum(channel_fen) FILTER (WHERE status NOT IN ('matched', 'carried_over')), 0)::int8,
                       coalesce(sum(internal_fen) FILTER (WHERE status NOT IN ('matched', 'carried_over')), 0)::int8
                FROM (SELECT r.channel, r.bill_date, r.status, coalesce(r.channel_amount_fen, 0) AS channel_fen,
                             coalesce(r.internal_amount_fen, 0) AS internal_fen, false AS resolved
                      FROM recon_results r
                      UNION ALL
                      SELECT v.asset, v.bill_date, v.status, coalesce(v.ledger_amount_fen, 0), coalesce(v.internal_amount_fen, 0),
                             false
                      FROM recon_virtual_results v) items
                GROUP BY 1, 2 ORDER BY 1, 2
                """
            ).rows.map {
                (
                    channel: try $0.decode(String.self, at: 0), day: try $0.decode(String.self, at: 1),
                    items: try $0.decode(Int64.self, at: 2), matched: try $0.decode(Int64.self, at: 3),
                    discrepancies: try $0.decode(Int64.self, at: 4), open: try $0.decode(Int64.self, at: 5),
                    channelFen: try $0.decode(Int64.self, at: 6), internalFen: try $0.decode(Int64.self, at: 7)
                )
            }
            #expect(Set(sections.map(\.id)) == Set(tallies.map { "series-" + $0.channel }))
            for tally in tallies {
                let section = try #require(sections.first { $0.id == "series-" + tally.channel })
                let row = try #require(section.rows.first { $0.first == tally.day }, "\(tally.channel) \(tally.day)")
                #expect(row[1] == Self.grouped(tally.items), "\(tally.channel) \(tally.day) items")
                #expect(row[2] == Self.grouped(tally.matched), "\(tally.channel) \(tally.day) matched")
                #expect(row[4] == Self.grouped(tally.discrepancies), "\(tally.channel) \(tally.day) discrepancies")
                // Nothing is resolved yet: every discrepancy is open.
                #expect(row[5] == Self.grouped(tally.open), "\(tally.channel) \(tally.day) open")
                let basisPoints = tally.matched * 10_000 / tally.items
                #expect(row[3] == "\(basisPoints / 100).\(String(format: "%02d", basisPoints % 100))%")
                #expect(row[7] == Self.yuan(tally.channelFen), "\(tally.channel) \(tally.day) channel side")
                #expect(row[8] == Self.yuan(tally.internalFen), "\(tally.channel) \(tally.day) internal side")
                #expect(row[9] == Self.yuan(tally.channelFen - tally.internalFen))
                let daysWithDiscrepancies = tallies.filter { $0.channel == tally.channel && $0.discrepancies > 0 }.count
                #expect(section.bars == daysWithDiscrepancies, "\(tally.channel): a bar per day with discrepancies")
            }
            try await chrome.run { try $0.screenshot(to: shots + "/days.png") }

            // The first day's open discrepancies, as many rows as the database holds.
            try await chrome.run { try $0.navigate(base + "/days/\(first)?open=1") }
            let openCount = try await Self.openDiscrepancies(first, pool: pool)
            #expect(openCount > 0)
            let shown = try await chrome.run { try $0.int("document.querySelectorAll('#items tbody tr').length") }
            #expect(shown == Int(min(openCount, 500)))

            // Resolve the first through its form; the note and who are recorded.
            let rowID = try await chrome.run { try $0.string("document.querySelector('#items tbody tr').id") }
            let itemID = String(rowID.dropFirst("item-".count))
            let note = "refund booked by hand, ticket 4711"
            try await chrome.run { browser in
                try browser.fill("#\(rowID) textarea", note)
                try browser.click("#\(rowID) button")
            }
            #expect(chrome.location.contains("resolved=\(itemID)"))
            #expect(
                try await chrome.run { try $0.string("document.querySelector('.flash').innerText") }
                    == "\(itemID) is resolved.")
            let recorded = try await Self.resolution(of: itemID, pool: pool)
            #expect(recorded?.note == note)
            #expect(recorded?.by == "Wang Fang")
            #expect(try await Self.openDiscrepancies(first, pool: pool) == openCount - 1)
            // Still open only: the resolved item is gone from the list.
            #expect(try await chrome.run { try $0.bool("document.getElementById('\(rowID)') === null") })

            // Filter by a channel and a status through the form.
            let channel = try #require(
                tallies.first { $0.day == first && $0.discrepancies > 0 && !Self.isAsset($0.channel) }?.channel)
            try await chrome.run { browser in
                _ = try browser.evaluate("document.querySelector('input[name=open]').checked = false")
                try browser.fill("#channel", channel)
                try browser.fill("#status", "")
                try browser.click("form.filters button")
            }
            let filtered = try await chrome.run { browser in
                try browser.string(
                    "JSON.stringify([...document.querySelectorAll('#items tbody tr')].map(tr => tr.cells[1].innerText.trim()))"
                )
            }
            let sources = try JSONDecoder().decode([String].self, from: Data(filtered.utf8))
            let expected = try await pool.query(
                """
                SELECT count(*) FROM recon_results
                WHERE bill_date = $1 AND channel = $2 AND status NOT IN ('matched', 'carried_over')
                """,
                [LocalDay(first)?.pgDate, channel]
            ).first?.decode(Int64.self, at: 0)
            #expect(sources.count == Int(min(expected ?? -1, 500)))
            #expect(sources.allSatisfy { $0 == channel })
            try await chrome.run { try $0.screenshot(to: shots + "/day.png") }

            // The settlement's CSV link serves the file the settle job wrote, byte for byte (the demo
            // removed the file; its SHA-256 is on record).
            try await chrome.run { try $0.navigate(base + "/days/\(second)") }
            let link = try await chrome.run { try $0.string("document.getElementById('settlement-csv').href") }
            #expect(link == base + "/days/\(second)/settlement.csv")
            let download = try await HTTPClient().send(
                HTTPRequest(url: link, headers: ["Cookie": "recon_session=\(sessionCookie)"]))
            #expect(download.status == 200)
            let sha256 = try #require(
                try await pool.query(
                    "SELECT file_sha256 FROM recon_settled_days WHERE bill_date = $1", [LocalDay(second)?.pgDate]
                )
                .first?.decode(String?.self, at: 0))
            #expect(SHA256.hash(data: download.body).map { String(format: "%02x", $0) }.joined() == sha256)

            // Jobs: the dead job with its error, its retry button; the fetch attempts of the last day.
            try await chrome.run { try $0.navigate(base + "/jobs") }
            let deadText = try await chrome.run { try $0.string("document.getElementById('job-\(deadID)').innerText") }
            #expect(deadText.contains("alipay answered 401: the channel refused the key"))
            let attemptRows = try await chrome.run {
                try $0.int("document.querySelectorAll('#fetches tbody tr').length")
            }
            let attempts = try await harness.count(
                "SELECT count(*) FROM bill_fetch_attempts WHERE bill_date = $1", [LocalDay(second)?.pgDate])
            #expect(attempts > 0)
            #expect(attemptRows == Int(attempts))
            try await chrome.run { try $0.screenshot(to: shots + "/jobs.png") }
            try await chrome.run { try $0.click("#job-\(deadID) button") }
            #expect(chrome.location == base + "/jobs?retried=\(deadID)")
            #expect(try await harness.jobState(deadID).state == "available")

            // Log out: the pages want the login again.
            try await chrome.run { try $0.click("form.logout button") }
            #expect(chrome.location == base + "/login")
            try await chrome.run { try $0.navigate(base + "/") }
            #expect(chrome.location.hasPrefix(base + "/login"))
        } catch {
            chrome.quit()
            await harness.stopAll()
            throw error
        }
        chrome.quit()
        await harness.stopAll()
    }

    /// What needs a person: not matched, not carried over (awaiting the next day), not resolved.
    static func openDiscrepancies(_ day: String, pool: PGPool) async throws -> Int64 {
        try await pool.query(
            """
            SELECT (SELECT count(*) FROM recon_results r LEFT JOIN recon_resolutions x ON x.scope = 'channel'
                      AND x.bill_date = r.bill_date AND x.channel = r.channel AND x.key_a = r.channel_txn_id
                      AND x.key_b = r.match_refund_key AND x.lane = r.lane
                    WHERE r.bill_date = $1 AND r.status NOT IN ('matched', 'carried_over') AND x.note IS NULL)
                 + (SELECT count(*) FROM recon_virtual_results v LEFT JOIN recon_resolutions x ON x.scope = 'virtual'
                      AND x.bill_date = v.bill_date AND x.channel = '' AND x.key_a = v.leg_id AND x.key_b = v.entry_id
                    WHERE v.bill_date = $1 AND v.status <> 'matched' AND x.note IS NULL)
            """, [LocalDay(day)?.pgDate]
        ).first?.decode(Int64.self, at: 0) ?? -1
    }

    static func resolution(of id: String, pool: PGPool) async throws -> (note: String, by: String)? {
        guard let number = Int64(id.dropFirst()) else { return nil }
        let table = id.hasPrefix("c") ? "recon_results" : "recon_virtual_results"
        let join =
            id.hasPrefix("c")
            ? "x.scope = 'channel' AND x.channel = r.channel AND x.key_a = r.channel_txn_id AND x.key_b = r.match_refund_key AND x.lane = r.lane"
            : "x.scope = 'virtual' AND x.channel = '' AND x.key_a = r.leg_id AND x.key_b = r.entry_id"
        guard
            let row = try await pool.query(
                "SELECT x.note, x.resolved_by FROM \(table) r JOIN recon_resolutions x ON x.bill_date = r.bill_date AND \(join) WHERE r.id = $1",
                [number]
            ).first
        else { return nil }
        return (try row.decode(String.self, at: 0), try row.decode(String.self, at: 1))
    }

    static func isAsset(_ name: String) -> Bool { LegKind(rawValue: name)?.isVirtual ?? false }

    /// Yuan as the dashboard writes them: two decimals, thousands grouped.
    static func yuan(_ fen: Int64) -> String {
        (fen < 0 ? "-" : "") + grouped(Int64(fen.magnitude / 100)) + "."
            + String(format: "%02d", Int(fen.magnitude % 100))
    }

    /// A count as the dashboard writes it: thousands grouped (Foundation's formatter, not the
    /// dashboard's own code).
    static func grouped(_ value: Int64) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.locale = Locale(identifier: "en_US")
        return formatter.string(from: NSNumber(value: value)) ?? "?"
    }
}
