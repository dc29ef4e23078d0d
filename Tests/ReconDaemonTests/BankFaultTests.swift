import Foundation
import ReconArchive
import ReconCore
import ReconMockChannel
import ReconPostgres
import ReconTestSupport
import Testing

/// Every fault of the mock channel against a `bank_csv` channel ends as CHANNELS.md §5 says: one
/// mock, one coordinator, two workers, one date per fault.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct BankFaultTests {
    /// Today's and yesterday's date in Beijing, where the channels' days are.
    static func beijingDay(offset: Int) -> String {
        LocalDay.beijingToday(offset: offset).description
    }

    @Test func eachFaultEndsAsTheTableSays() async throws {
        let yesterday = Self.beijingDay(offset: -1)
        let today = Self.beijingDay(offset: 0)
        let fixture = try await BillFixture(label: "bank-faults")
        try await fixture.startMock(
            lines: 300,
            faults: [
                "bank:2026-11-01:fail_503:2", "bank:2026-11-02:rate_limit_429:1:2", "bank:\(yesterday):not_ready:2",
                "bank:2026-11-03:not_ready:0", "bank:2026-11-04:cut_body:1", "bank:2026-11-05:truncated_body:1",
                "bank:2026-11-06:wrong_hash:1", "bank:2026-11-07:auth_error:0", "bank:2026-11-08:no_business:1",
                "bank:\(today):not_ready:0",
            ])
        // Two channels on the same bank: one checks the SHA-256 sidecar, one relies on the trailer.
        try fixture.writeJobFile(
            """
            [[channel]]
            name = "bank-a"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(fixture.mockURL)/bills/{merchant}/{date:%Y%m%d}.csv"
            sha256_suffix = ".sha256"
            ready_after = "00:00"
            deadline = "23:59"
            poll_interval = "1s"

            [[channel]]
            name = "bank-b"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(fixture.mockURL)/bills/{merchant}/{date:%Y%m%d}.csv"
            """)
        try await fixture.startDaemons(workers: 2)

        var jobs: [String: Int64] = [:]
        for date in [
            "2026-11-01", "2026-11-02", yesterday, "2026-11-03", "2026-11-04", "2026-11-06", "2026-11-07", "2026-11-08",
            today,
        ] {
            jobs[date] = try await fixture.enqueueFetch(channel: "bank-a", date: date)
        }
        let truncated = try await fixture.enqueueFetch(channel: "bank-b", date: "2026-11-05")
        let pool = fixture.harness.pool

        func expectStagedTruth(_ channel: String, _ date: String) async throws {
            try await fixture.expectStagedTruth(channel, date: date, mock: "bank", merchant: "m001")
        }
        func attempts(_ date: String) async throws -> [(status: Int?, outcome: String, startedMicros: Int64)] {
            try await fixture.downloadAttempts(date)
        }

        // 503 twice: retried with backoff, then staged.
        let job503 = try #require(jobs["2026-11-01"])
        #expect(try await fixture.waitUntilFinished(job503) == "completed")
        #expect(try await fixture.harness.jobState(job503).attempt == 3)
        #expect(try await attempts("2026-11-01").map(\.status) == [503, 503, 200])
        try await expectStagedTruth("bank-a", "2026-11-01")

        // 429 with Retry-After: 2: the retry waits at least that long.
        let job429 = try #require(jobs["2026-11-02"])
        #expect(try await fixture.waitUntilFinished(job429) == "completed")
        let tries429 = try await attempts("2026-11-02")
        #expect(tries429.map(\.status) == [429, 200])
        if tries429.count == 2 { #expect(tries429[1].startedMicros - tries429[0].startedMicros >= 1_900_000) }

        // Not published yet, twice, before the deadline: snoozed without using attempts.
        let jobNotReady = try #require(jobs[yesterday])
        #expect(try await fixture.waitUntilFinished(jobNotReady) == "completed")
        #expect(try await fixture.harness.jobState(jobNotReady).attempt == 1)
        #expect(try await attempts(yesterday).map(\.status) == [404, 404, 200])
        try await expectStagedTruth("bank-a", yesterday)

        // Never published, and the deadline is long past: asked late_polls (3) more times, a poll
        // apart, then dead with the alert's words, the deadline's date and how long ago it was.
        let jobLate = try #require(jobs["2026-11-03"])
        #expect(try await fixture.waitUntilFinished(jobLate) == "dead")
        let lateTries = try await attempts("2026-11-03")
        #expect(lateTries.map(\.status) == [404, 404, 404, 404], "\(lateTries)")
        let lateError = try await fixture.jobErrors(jobLate)
        #expect(
            lateError.contains("bill for 2026-11-03 not published by 2026-11-04 23:59 Asia/Shanghai, "), "\(lateError)")
        #expect(lateError.contains(" days ") && lateError.contains(" ago (bank-a: "), "\(lateError)")

        // Cut halfway: resumed with Range in the same attempt; the sidecar's hash matches.
        let jobCut = try #require(jobs["2026-11-04"])
        #expect(try await fixture.waitUntilFinished(jobCut) == "completed")
        #expect(try await attempts("2026-11-04").map(\.outcome) == ["cut_off", "completed"])
        #expect(try await attempts("2026-11-04").map(\.status) == [200, 206])
        try await expectStagedTruth("bank-a", "2026-11-04")

        // A 200 with half the file: the trailer check refuses it, nothing staged; the retry stages it.
        #expect(try await fixture.waitUntilFinished(truncated) == "completed")
        let truncatedErrors = try await fixture.jobErrors(truncated)
        #expect(truncatedErrors.contains("nothing staged"), "\(truncatedErrors)")
        try await expectStagedTruth("bank-b", "2026-11-05")
        // The refused half-file stays in the archive for audit, marked as refused and why; the
        // staged one is not marked.
        let archived = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.archive)/bank-b")
        let marks = archived.filter { $0.hasSuffix(".refused") }
        #expect(marks.count == 1, "\(archived)")
        if let mark = marks.first {
            let why = try String(contentsOfFile: "\(fixture.archive)/bank-b/\(mark)", encoding: .utf8)
            #expect(why.contains("nothing staged"), "\(why)")
            #expect(archived.contains(String(mark.dropLast(".refused".count))))
        }
        let stagedSHA = try await fixture.harness.pool.query(
            "SELECT file_sha256 FROM bill_fetches WHERE channel = 'bank-b' AND bill_date = '2026-11-05'"
        ).first?.decode(String.self, at: 0)
        #expect(marks.allSatisfy { !$0.hasPrefix(stagedSHA ?? "?") })

        // A sidecar announcing another hash: refused before parsing; the retry stages it.
        let jobHash = try #require(jobs["2026-11-06"])
        #expect(try await fixture.waitUntilFinished(jobHash) == "completed")
        #expect(try await fixture.jobErrors(jobHash).contains("sidecar announces"))
        try await expectStagedTruth("bank-a", "2026-11-06")

        // Refused credentials: dead at once, one attempt.
        let jobAuth = try #require(jobs["2026-11-07"])
        #expect(try await fixture.waitUntilFinished(jobAuth) == "dead")
        #expect(try await fixture.harness.jobState(jobAuth).attempt == 1)
        #expect(try await fixture.jobErrors(jobAuth).contains("HTTP 401"))

        // No business that day: a bill with a count-0 trailer, staged as an empty day.
        let jobEmpty = try #require(jobs["2026-11-08"])
        #expect(try await fixture.waitUntilFinished(jobEmpty) == "completed")
        #expect(try await fixture.staged("bank-a", "2026-11-08").lines == 0)
        let outcome = try await pool.query("SELECT outcome FROM bill_fetches WHERE bill_date = '2026-11-08'").first?
            .decode(String.self, at: 0)
        #expect(outcome == "empty")

        // Today's bill is not due until tomorrow: the job waits for the ready time, no attempt used.
        let jobToday = try #require(jobs[today])
        try await eventually("today's fetch is snoozed", timeout: .seconds(20)) {
            try await fixture.harness.jobState(jobToday).state == "scheduled"
        }
        #expect(try await fixture.harness.jobState(jobToday).attempt == 0)
        let waitHours = try await pool.query(
            "SELECT extract(epoch FROM run_at - now())::int8 / 3600 FROM recon_jobs WHERE id = $1", [jobToday]
        ).first?.decode(Int64.self, at: 0)
        #expect((waitHours ?? -1) >= 0 && (waitHours ?? 99) <= 24)
        await fixture.stop()
    }

    @Test func packedBankFilesUnpackAndHostileArchivesAreRefused() async throws {
        let fixture = try await BillFixture(label: "bank-packed")
        try await fixture.startMock(lines: 400, faults: ["bank:2026-11-14:corrupt_archive:1"])
        // Hostile archives, given to the mock as files: an entry escaping the folder, and a bomb.
        let folder = fixture.data + "/bank/m001"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try ZipWriter.write(
            path: folder + "/20261112.csv.zip", entries: [(Array("../x.csv".utf8), Array("a,b\n".utf8))])
        try ZipWriter.write(
            path: folder + "/20261113.csv.zip",
            entries: [(Array("bomb.csv".utf8), [UInt8](repeating: 48, count: 5 << 20))])
        // A bill whose trailer disagrees with its lines (the sum is one fen off).
        try fixture.giveBankFile(
            "20261115",
            rows: [
                "2026-11-15 09:15:07,B000000001,R20261115000001,,payment,50.00,0.25,CNY,SUCCESS",
                "2026-11-15 17:40:11,B000000002,R20261115000001,RF20261115000001,refund,-20.00,-0.10,CNY,SUCCESS",
            ], trailer: "#TOTAL,2,30.01,0.15")
        try fixture.writeJobFile(
            """
            [[channel]]
            name = "bank-gz"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(fixture.mockURL)/bills/{merchant}/{date:%Y%m%d}.csv.gz"
            compression = "gzip"
            sha256_suffix = ".sha256"

            [[channel]]
            name = "bank-zip"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(fixture.mockURL)/bills/{merchant}/{date:%Y%m%d}.zip"
            compression = "zip"
            zip_entry = "*.csv"
            max_bill_bytes = 1000000
            retry = { max_attempts = 2, base = "200ms", cap = "1s" }

            [[channel]]
            name = "bank-plain"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(fixture.mockURL)/bills/{merchant}/{date:%Y%m%d}.csv"
            """)
        try await fixture.startDaemons(workers: 1)
        let gz = try await fixture.enqueueFetch(channel: "bank-gz", date: "2026-11-11")
        let zip = try await fixture.enqueueFetch(channel: "bank-zip", date: "2026-11-11")
        let escaping = try await fixture.enqueueFetch(channel: "bank-zip", date: "2026-11-12", maxAttempts: 2)
        let bomb = try await fixture.enqueueFetch(channel: "bank-zip", date: "2026-11-13", maxAttempts: 2)
        let corrupt = try await fixture.enqueueFetch(channel: "bank-gz", date: "2026-11-14")
        let disagreeing = try await fixture.enqueueFetch(channel: "bank-plain", date: "2026-11-15", maxAttempts: 5)

        for (id, channel) in [(gz, "bank-gz"), (zip, "bank-zip")] {
            #expect(try await fixture.waitUntilFinished(id) == "completed")
            try await fixture.expectStagedTruth(channel, date: "2026-11-11", mock: "bank", merchant: "m001")
        }
        #expect(try await fixture.waitUntilFinished(escaping) == "dead")
        #expect(try await fixture.jobErrors(escaping).contains("entry name"))
        #expect(try await fixture.staged("bank-zip", "2026-11-12").lines == 0)
        #expect(try await fixture.waitUntilFinished(bomb) == "dead")
        #expect(try await fixture.jobErrors(bomb).contains("size cap"))
        #expect(try await fixture.staged("bank-zip", "2026-11-13").lines == 0)
        // Nothing of the bomb was written out past the cap.
        let written = try FileManager.default.subpathsOfDirectory(atPath: fixture.downloads).compactMap {
            path -> Int? in
            (try? FileManager.default.attributesOfItem(atPath: fixture.downloads + "/" + path)[.size] as? NSNumber)?
                .intValue
        }
        #expect((written.max() ?? 0) < 1_000_000)
        // A flipped byte in the gzip stream: caught (hash or gzip CRC), refetched whole, staged.
        #expect(try await fixture.waitUntilFinished(corrupt) == "completed")
        #expect(try await fixture.jobErrors(corrupt).contains("2026-11-14"))
        #expect(try await fixture.staged("bank-gz", "2026-11-14").lines == 400)
        // Totals that disagree: refused with the trailer's line, nothing staged, no bill_fetches row;
        // dead at its first attempt of five (a fresh download would disagree the same way), and
        // said so once in the worker's log and once in the coordinator's, naming channel and day.
        #expect(try await fixture.waitUntilFinished(disagreeing) == "dead")
        #expect(try await fixture.harness.jobState(disagreeing).attempt == 1)
        for process in fixture.harness.workers + fixture.harness.coordinators {
            let dead = process.output.split(separator: "\n").filter {
                $0.contains("job.id=\(disagreeing) ") && $0.contains("job.outcome=dead")
            }
            #expect(dead.count == 1, "\(process.name): \(process.output.suffix(3000))")
            #expect(dead.first?.contains("bill.channel=bank-plain") == true, "\(dead)")
            #expect(dead.first?.contains("bill.date=2026-11-15") == true, "\(dead)")
        }
        let disagreement = try await fixture.jobErrors(disagreeing)
        #expect(
            disagreement.contains("nothing staged") && disagreement.contains(":4") && disagreement.contains("30.01"),
            "\(disagreement)")
        #expect(try await fixture.staged("bank-plain", "2026-11-15").lines == 0)
        #expect(
            try await fixture.harness.count("SELECT count(*) FROM bill_fetches WHERE bill_date = '2026-11-15'") == 0)
        await fixture.stop()
    }

    /// A part file left by a cut attempt is resumed by the next one with If-Range: the same file
    /// continues (206); a file the bank replaced in between comes whole (200) and its rows are
    /// staged, with no mixed download refused on the way; a part without its validator starts
    /// from zero.
    @Test func crossAttemptResumeChecksTheFileWithIfRange() async throws {
        let (same, replaced, unvalidated) = ("2026-11-21", "2026-11-22", "2026-11-23")
        let fixture = try await BillFixture(label: "bank-if-range")
        // Every transfer of the first attempt is cut: the first and its three resumes.
        try await fixture.startMock(lines: 300, faults: [same, replaced, unvalidated].map { "bank:\($0):cut_body:4" })
        // The file first served for `replaced`: a small given one, replaced below by the generated bill.
        let given = try fixture.giveBankFile(
            "20261122",
            rows: [
                "2026-11-22 09:15:07,B000000001,R20261122000001,,payment,50.00,0.25,CNY,SUCCESS",
                "2026-11-22 17:40:11,B000000002,R20261122000002,,payment,20.00,0.10,CNY,SUCCESS",
            ], trailer: "#TOTAL,2,70.00,0.35")
        try fixture.writeJobFile(
            """
            [[channel]]
            name = "bank-a"
            adapter = "bank_csv"
            merchant_id = "m001"
            url_template = "\(fixture.mockURL)/bills/{merchant}/{date:%Y%m%d}.csv"
            sha256_suffix = ".sha256"
            """)
        try await fixture.startDaemons(workers: 1)
        // The retry waits (up to an hour) until the test has changed the world and moves it up.
        let patient = RetryPolicy(maxAttempts: 5, baseMilliseconds: 3_600_000, capMilliseconds: 3_600_000)
        var jobs: [String: Int64] = [:]
        for date in [same, replaced, unvalidated] {
            jobs[date] = try await fixture.enqueueFetch(channel: "bank-a", date: date, retry: patient)
        }
        func validatorFile(_ date: String) throws -> String {
            "\(fixture.downloads)/bank-a/\(date)/job-\(try #require(jobs[date]))/bill.part.validator"
        }
        for (date, id) in jobs {
            try await eventually("the first attempt for \(date) failed") {
                let state = try await fixture.harness.jobState(id)
                return state.state == "retryable" && state.attempt == 1
            }
            #expect(try await fixture.downloadAttempts(date).map(\.outcome) == Array(repeating: "cut_off", count: 4))
            #expect(
                FileManager.default.fileExists(atPath: try validatorFile(date)),
                "no validator beside the part file of \(date)")
        }

        // Between the attempts: the bank replaces one file, and one validator is lost.
        try FileManager.default.removeItem(atPath: given)
        try FileManager.default.removeItem(atPath: try validatorFile(unvalidated))
        for id in jobs.values {
            _ = try await fixture.harness.pool.query(
                "UPDATE recon_jobs SET run_at = now() WHERE id = $1 AND state = 'retryable'", [id])
        }

        for (date, id) in jobs {
            // Done, or failed its second attempt too (the next retry is an hour away).
            try await eventually("the second attempt for \(date) ended") {
                let state = try await fixture.harness.jobState(id)
                return ["completed", "dead"].contains(state.state) || (state.state == "retryable" && state.attempt >= 2)
            }
            let state = try await fixture.harness.jobState(id)
            let errors = try await fixture.jobErrors(id)
            #expect(state.state == "completed" && state.attempt == 2, "\(date): \(state), \(errors)")
            try await fixture.expectStagedTruth("bank-a", date: date, mock: "bank", merchant: "m001")
        }
        let cutFourTimes: [Int?] = [200, 206, 206, 206]
        #expect(try await fixture.downloadAttempts(same).map(\.status) == cutFourTimes + [206])
        #expect(try await fixture.downloadAttempts(replaced).map(\.status) == cutFourTimes + [200])
        #expect(try await fixture.downloadAttempts(unvalidated).map(\.status) == cutFourTimes + [200])
        await fixture.stop()
    }
}
