import Foundation
import ReconBillJobs
import ReconCore
import ReconMockChannel
import ReconPostgres
import ReconTestSupport
import Testing

/// `fetch_bill` for a `bank_csv` channel, end to end: real mock channel, coordinator and workers,
/// HTTP through libcurl and PostgreSQL.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct BankBillTests {
    static func channel(_ base: String, extra: String = "") -> String {
        """
        [[channel]]
        name = "bank-a"
        adapter = "bank_csv"
        merchant_id = "m001"
        url_template = "\(base)/bills/{merchant}/{date:%Y%m%d}.csv"
        sha256_suffix = ".sha256"
        retry = { max_attempts = 5, base = "200ms", cap = "1s" }
        \(extra)
        """
    }

    @Test func aBankBillIsStagedWithTheGeneratedTotalsAndARefetchLeavesTheSameRows() async throws {
        let fixture = try await BillFixture(label: "bank-roundtrip")
        try await fixture.startMock(lines: 500)
        try fixture.writeJobFile(Self.channel(fixture.mockURL))
        try await fixture.startDaemons()

        let first = try await fixture.enqueueFetch(channel: "bank-a", date: "2026-11-23")
        #expect(try await fixture.waitUntilFinished(first) == "completed")
        let truth = try await fixture.expectStagedTruth("bank-a", date: "2026-11-23", mock: "bank", merchant: "m001")
        #expect(truth.payments > 0 && truth.refunds > 0)
        let rowsBefore = try await fixture.harness.pool.query(
            "SELECT md5(string_agg(t::text, '|' ORDER BY line_no)) FROM staged_bill_lines t WHERE channel = 'bank-a'"
        ).first?.decode(String.self, at: 0)

        // The same day again: the same rows, not twice as many.
        let second = try await fixture.enqueueFetch(channel: "bank-a", date: "2026-11-23")
        #expect(try await fixture.waitUntilFinished(second) == "completed")
        let rowsAfter = try await fixture.harness.pool.query(
            "SELECT md5(string_agg(t::text, '|' ORDER BY line_no)) FROM staged_bill_lines t WHERE channel = 'bank-a'"
        ).first?.decode(String.self, at: 0)
        #expect(rowsAfter == rowsBefore)
        #expect(try await fixture.staged("bank-a", "2026-11-23").lines == truth.lines)

        // The raw file is archived under its SHA-256, and `recon bills show` reports it all.
        let shown = try runRecon(
            ["bills", "show", "--channel", "bank-a", "--date", "2026-11-23"], environment: fixture.harness.environment)
        #expect(shown.status == 0)
        #expect(shown.output.contains("\(truth.lines) lines"))
        let sha = try await fixture.harness.pool.query("SELECT file_sha256 FROM bill_fetches WHERE channel = 'bank-a'")
            .first?.decode(String.self, at: 0)
        let digest = try #require(sha)
        #expect(FileManager.default.fileExists(atPath: "\(fixture.archive)/bank-a/\(digest).csv"))
        #expect(shown.output.contains(digest))
        // Every request of both jobs, counted as requests, not as attempts.
        let requests = try await fixture.harness.pool.query(
            "SELECT count(*) FROM bill_fetch_attempts WHERE channel = 'bank-a' AND bill_date = '2026-11-23'"
        ).first?.decode(Int64.self, at: 0)
        #expect(shown.output.contains("requests: \(requests ?? -1), by 2 jobs in 2 attempts"), "\(shown.output)")
        // The second job staged these rows; a third that staged nothing is told apart from them.
        let report = try await fixture.harness.pool.withConnection {
            try BillReport.load(
                channel: "bank-a", day: LocalDay(year: 2026, month: 11, day: 23) ?? LocalDay(dayNumber: 0), on: $0)
        }
        #expect(report.otherFetchNote(job: second, ended: "completed") == nil)
        let note = report.otherFetchNote(job: second + 100, ended: "dead")
        #expect(
            note?.hasPrefix(
                "job \(second + 100) ended dead and staged nothing; the rows below are another fetch's (job \(second), fetched "
            ) == true, "\(String(describing: note))")
        // Where the time went is recorded with the fetch and shown.
        let timings = try #require(
            try await fixture.harness.pool.query(
                "SELECT fetch_ms, stage_ms, parse_cpu_ms FROM bill_fetches WHERE channel = 'bank-a' AND bill_date = '2026-11-23'"
            ).first)
        let (fetchMS, stageMS, parseMS) = (
            try timings.decode(Int64?.self, at: 0), try timings.decode(Int64?.self, at: 1),
            try timings.decode(Int64?.self, at: 2)
        )
        #expect(fetchMS.map { $0 >= 0 } == true && stageMS.map { $0 >= 0 } == true && parseMS.map { $0 >= 0 } == true)
        #expect(shown.output.contains("ms to download and verify, \(stageMS ?? -1) ms to stage"), "\(shown.output)")
        // No download leftovers: no partial file under a final name, no staging file.
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: fixture.downloads).filter {
            $0.hasSuffix(".part") || $0.hasSuffix(".copy") || $0.hasSuffix("bill")
        }
        #expect(leftovers.isEmpty, "left in the download folder: \(leftovers)")
        await fixture.stop()
    }

    @Test func fetchBillFollowsTheJobAndNoSecretReachesLogsErrorsOrRecords() async throws {
        let secret = "bank-secret-7f3a9c2e41d8b6057e1a"
        let fixture = try await BillFixture(label: "bank-secrets")
        // The mock wants the key, so a fetch that succeeds proves it was sent.
        try await fixture.startMock(
            lines: 50, faults: ["bank:2026-11-10:fail_503:1", "bank:2026-11-11:auth_error:0"],
            arguments: ["--bank-api-key-env", "MOCK_BANK_KEY"], environment: ["MOCK_BANK_KEY": secret])
        try fixture.writeJobFile(
            Self.channel(
                fixture.mockURL,
                extra: "auth_header = { name = \"X-Api-Key\", secret = { env = \"RECON_TEST_BANK_KEY\" } }"))
        try await fixture.startDaemons(environment: ["RECON_TEST_BANK_KEY": secret, "RECON_LOG_LEVEL": "trace"])

        // `recon fetch-bill` enqueues, follows the job through its retry, and prints the staged totals.
        let fetched = try runRecon(
            [
                "fetch-bill", "--channel", "bank-a", "--date", "2026-11-10", "--jobs", fixture.jobs,
                "--timeout-seconds", "60",
            ],
            environment: fixture.harness.environment)
        #expect(fetched.status == 0, "\(fetched.output)")
        #expect(fetched.output.contains("attempt 1 failed"))
        #expect(fetched.output.contains("completed"))
        #expect(fetched.output.contains("50 lines"))
        // A dead fetch exits non-zero and says why.
        let refused = try runRecon(
            [
                "fetch-bill", "--channel", "bank-a", "--date", "2026-11-11", "--jobs", fixture.jobs,
                "--timeout-seconds", "60",
            ],
            environment: fixture.harness.environment)
        #expect(refused.status == 1)
        #expect(refused.output.contains("HTTP 401"))
        // An unknown channel is refused before anything is enqueued.
        let unknown = try runRecon(
            ["fetch-bill", "--channel", "nope", "--date", "2026-11-10", "--jobs", fixture.jobs],
            environment: fixture.harness.environment)
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("no channel named nope"))

        let shown = try runRecon(
            ["bills", "show", "--channel", "bank-a", "--date", "2026-11-11", "--json"],
            environment: fixture.harness.environment)
        let records =
            try await fixture.harness.pool.query(
                "SELECT coalesce(string_agg(errors::text, ' '), '') FROM recon_jobs"
            ).first?.decode(String.self, at: 0) ?? ""
        let attempts =
            try await fixture.harness.pool.query(
                "SELECT coalesce(string_agg(url || ' ' || coalesce(detail, ''), ' '), '') FROM bill_fetch_attempts"
            ).first?.decode(String.self, at: 0) ?? ""
        #expect(attempts.contains("/bills/m001/20261111.csv"))
        await fixture.stop()
        let logs =
            (fixture.harness.workers + fixture.harness.coordinators).map(\.output).joined()
            + (fixture.mock?.output ?? "")
        #expect(logs.contains("bank-a"))  // the logs are there, and say things
        for (place, text) in [
            ("logs", logs), ("job errors", records), ("attempts", attempts), ("bills show", shown.output),
            ("fetch-bill", fetched.output + refused.output),
        ] {
            #expect(!text.contains(secret), "the secret appears in \(place)")
        }
    }
}
