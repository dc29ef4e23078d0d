import Foundation
import ReconCore
import ReconHTTP
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Testing

/// Issue 13: `/metrics` of a coordinator and of two workers (`--metrics-listen`) after a small day
/// with one failed download, and probes that fail, retry and die, show exactly the counts the
/// database says happened; and the daemons' log lines (logfmt and `--log-format json`) carry the
/// job's fields and never a secret.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct MetricsTests {
    @Test func metricsScrapedAfterASmallDayShowExactlyTheCountsThatHappened() async throws {
        let day = DayRunTests.day
        let setup = try await DayRunTests.setUp(
            label: "metrics-day", lines: 40, faults: ["wechatpay:\(day):fail_503:1"])
        try DayRunTests.giveDay(setup, setup.synthetic)
        let fixture = setup.fixture
        let harness = fixture.harness
        let coordinator = try await harness.startCoordinator(leaseMilliseconds: 3_000)
        var workerMetrics: [String] = []
        var workers: [DaemonProcess] = []
        for (index, format) in ["json", "logfmt"].enumerated() {
            let id = "metrics\(index)"
            let worker = try await harness.startWorker(
                slots: 3, id: id,
                extraArguments: [
                    "--jobs", fixture.jobs, "--download-dir", fixture.downloads, "--archive-dir", fixture.archive,
                    "--queues", "default,bills", "--spool-dir", fixture.folder + "/spool", "--settlement-dir",
                    setup.settlements, "--metrics-listen", "127.0.0.1:0", "--log-format", format,
                ])
            let line = try await worker.waitForLine(containing: "metrics listening on port")
            let port = try #require(line.split(separator: " ").last.map(String.init))
            workerMetrics.append("http://127.0.0.1:\(port)/metrics")
            workers.append(worker)
        }
        // Probes: ten that complete, three that fail once and then complete, two that die after two
        // attempts, one whose arguments are refused for good.
        let quick = RetryPolicy(maxAttempts: 2, baseMilliseconds: 50, capMilliseconds: 100)
        _ = try await harness.enqueue(
            (0..<10).map { _ in NewJob(kind: "probe") }
                + (0..<3).map { _ in NewJob(kind: "probe", args: #"{"fail_attempts": 1}"#, retry: quick) }
                + (0..<2).map { _ in NewJob(kind: "probe", args: #"{"fail_attempts": 5}"#, retry: quick) }
                + [NewJob(kind: "probe", args: #"{"fail_attempts": "x"}"#, retry: quick)])
        let run = try setup.recon(["run-day", "--date", "\(day)", "--jobs", fixture.jobs])
        #expect(run.status == 0, "\(run.output)")
        try await eventually("every job finished", timeout: .seconds(60)) {
            try await harness.count("SELECT count(*) FROM recon_jobs WHERE state NOT IN ('completed', 'dead')") == 0
        }

        // What the database says happened, by the metrics' labels.
        let pool = harness.pool
        func counts(_ sql: String) async throws -> [String: Int64] {
            var out: [String: Int64] = [:]
            for row in try await pool.query(sql).rows {
                out[try row.decode(String.self, at: 0)] = try row.decode(Int64.self, at: 1)
            }
            return out.filter { $0.value != 0 }
        }
        let completed = try await counts(
            "SELECT 'kind=' || kind, count(*) FROM recon_jobs WHERE state = 'completed' GROUP BY kind")
        let dead = try await counts(
            "SELECT 'kind=' || kind, count(*) FROM recon_jobs WHERE state = 'dead' GROUP BY kind")
        // No snoozes happen here, so every lease used an attempt.
        let leased = try await counts("SELECT 'kind=' || kind, sum(attempt)::bigint FROM recon_jobs GROUP BY kind")
        let failed = try await counts(
            "SELECT 'kind=' || kind, sum(jsonb_array_length(errors))::bigint FROM recon_jobs GROUP BY kind")
        let fetchFailures = try await counts(
            """
            SELECT 'channel=' || (args->>'channel'), sum(jsonb_array_length(errors))::bigint FROM recon_jobs
            WHERE kind = 'fetch_bill' GROUP BY 1
            """)
        let fetchRetries = try await counts(
            """
            SELECT 'channel=' || (args->>'channel'), sum(attempt - 1)::bigint FROM recon_jobs
            WHERE kind = 'fetch_bill' GROUP BY 1
            """)
        let bytes = try await counts(
            "SELECT 'channel=' || channel, sum(bytes)::bigint FROM bill_fetch_attempts GROUP BY channel")
        let items = try await counts(
            """
            SELECT 'channel=' || channel || ',status=' || status, count(*) FROM recon_results
            WHERE bill_date = '\(day)' GROUP BY channel, status
            """)
        let amounts = try await counts(
            """
            SELECT 'channel=' || channel || ',status=' || status,
                   sum(abs(coalesce(channel_amount_fen, internal_amount_fen, 0)))::bigint
            FROM recon_results WHERE bill_date = '\(day)' GROUP BY channel, status
            """)
        let queueDepth = try await counts(
            "SELECT 'queue=' || queue || ',state=' || state, count(*) FROM recon_jobs GROUP BY queue, state")
        #expect(dead["kind=probe"] == 3 && failed["kind=probe"] == 3 + 4 + 1)
        #expect(fetchFailures.values.reduce(0, +) == 1 && fetchRetries.values.reduce(0, +) == 1)
        #expect(!items.isEmpty && !bytes.isEmpty)

        // The completion counters move just after the commit: scrape until they have caught up.
        var scraped = Scrape()
        try? await eventually("the workers' counters caught up", timeout: .seconds(10)) {
            scraped = try await Scrape(urls: [coordinator + "/metrics"] + workerMetrics)
            return scraped.values("recon_jobs_completed_total") == completed
        }
        #expect(!completed.isEmpty && scraped.values("recon_jobs_completed_total") == completed)
        #expect(scraped.values("recon_jobs_leased_total") == leased)
        #expect(scraped.values("recon_jobs_failed_total") == failed)
        #expect(scraped.values("recon_jobs_dead_total") == dead)
        #expect(scraped.values("recon_jobs_snoozed_total").isEmpty)
        #expect(scraped.values("recon_jobs") == queueDepth)
        #expect(scraped.values("recon_download_bytes_total") == bytes)
        #expect(scraped.values("recon_download_failures_total") == fetchFailures)
        #expect(scraped.values("recon_download_retries_total") == fetchRetries)
        #expect(scraped.values("recon_reconciled_items_total") == items)
        #expect(scraped.values("recon_reconciled_amount_fen_total") == amounts)
        // Each day job that completed was timed once, under its kind.
        let stages = scraped.values("recon_day_stage_seconds_count")
        for kind in ["fetch_bill", "run_day", "reconcile", "finalize", "reconcile_virtual", "settle"] {
            #expect(stages["stage=\(kind)"] == completed["kind=\(kind)"], "\(kind)")
        }
        #expect((scraped.values("recon_lease_latency_seconds_count")[""] ?? 0) > 0)
        // The coordinator counts leases and failures, the workers completions: no double counting.
        let coordinatorOnly = try await Scrape(urls: [coordinator + "/metrics"])
        #expect(coordinatorOnly.values("recon_jobs_completed_total").isEmpty)
        #expect(coordinatorOnly.values("recon_jobs_leased_total") == leased)

        await fixture.stop()
        // Logs: one line per event; JSON lines parse and carry the job's fields; no secret anywhere.
        let outputs = ([fixture.mock].compactMap { $0 } + harness.coordinators + workers).map(\.output)
        for output in outputs {
            #expect(!output.contains(harness.token), "the API token is in a log")
            #expect(!output.contains("PRIVATE KEY"), "a key is in a log")
        }
        var jsonLines = 0
        var fetchLines = 0
        for line in workers[0].output.split(separator: "\n") where line.hasPrefix("{") {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            jsonLines += 1
            #expect(object["ts"] != nil && object["level"] != nil && object["msg"] != nil)
            #expect(object["worker.id"] == "metrics0", "\(line)")
            if object["job.kind"] == "fetch_bill" {
                fetchLines += 1
                #expect(object["job.id"] != nil && object["job.attempt"] != nil, "\(line)")
                #expect(object["bill.channel"] != nil && object["bill.date"] == "\(day)", "\(line)")
            }
        }
        #expect(jsonLines > 0 && fetchLines > 0)
        let logfmt = workers[1].output.split(separator: "\n").filter { $0.hasPrefix("ts=") }
        #expect(logfmt.contains { $0.contains("msg=\"job completed\"") && $0.contains("worker.id=metrics1") })
        let coordinatorLines = harness.coordinators.map(\.output).joined().split(separator: "\n")
        #expect(
            coordinatorLines.contains {
                $0.hasPrefix("ts=") && $0.contains("job.kind=probe") && $0.contains("job.outcome=dead")
                    && $0.contains("job.attempt=2")
            })
    }
}

/// The samples of one or more `/metrics` pages, summed across pages by name and labels.
struct Scrape {
    private var samples: [String: [String: Double]] = [:]

    init() {}

    init(urls: [String]) async throws {
        for url in urls {
            let result = try await HTTPClient().send(HTTPRequest(url: url))
            guard result.status == 200 else { throw DaemonError("GET \(url) answered \(result.status)") }
            for line in String(decoding: result.body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                    continue
                }
                let series = line[..<space]
                let name = String(series.prefix { $0 != "{" })
                // `{kind="probe",status="matched"}` → `kind=probe,status=matched`; values here hold no quotes.
                let labels = series.dropFirst(name.count).filter { $0 != "{" && $0 != "}" && $0 != "\"" }
                samples[name, default: [:]][String(labels), default: 0] += value
            }
        }
    }

    /// Each label set's value as a whole number; zeros left out, as the database's counts leave them.
    func values(_ name: String) -> [String: Int64] {
        (samples[name] ?? [:]).compactMapValues { $0 == 0 ? nil : Int64($0) }
    }
}
