import Foundation
import ReconCore
import ReconJobs
import ReconPostgres

/// `/jobs`: counts by queue and state, current leases by worker, dead jobs with every attempt's
/// error and a retry button, and each channel's fetch attempts for a bill day (`?date=`).
struct JobsPage: Sendable {
    struct QueueRow: Sendable {
        var queue: String
        var cells: [String]
    }

    struct WorkerRow: Sendable {
        var worker: String
        var running: String
        var oldest: String
    }

    struct DeadJob: Sendable {
        var id: Int64
        var kind: String
        var queue: String
        var attempts: String
        var finishedAt: String
        var args: String
        var errors: [JobRecord.Attempt]
    }

    struct Attempt: Sendable {
        var startedAt: String
        var job: String
        var attempt: String
        var worker: String
        var step: String
        var url: String
        var http: String
        var bytes: String
        var milliseconds: String
        var outcome: String
        var detail: String
    }

    struct ChannelFetches: Sendable {
        var channel: String
        var outcome: String
        var attempts: [Attempt]
    }

    struct Option: Sendable {
        var value: String
        var selected: Bool
    }

    static let deadLimit = 100

    var chrome: Chrome
    var csrf: String
    var flash: String?
    var problem: String?
    var states: [String]
    var counts: [QueueRow]
    var hasCounts: Bool
    var workers: [WorkerRow]
    var hasWorkers: Bool
    var dead: [DeadJob]
    var deadText: String
    var fetchDays: [Option]
    var channels: [ChannelFetches]

    static func load(
        fetchDay requested: LocalDay?, chrome: Chrome, flash: String?, problem: String?, on connection: PGConnection
    ) throws -> JobsPage {
        let status = try JobStatus.read(on: connection)
        let states = JobState.allCases.map(\.rawValue).filter { state in status.counts.contains { $0.state == state } }
        let queues = Array(Set(status.counts.map(\.queue))).sorted()
        let counts = queues.map { queue in
            QueueRow(
                queue: queue,
                cells: states.map { state in
                    DashboardText.count(status.counts.first { $0.queue == queue && $0.state == state }?.jobs ?? 0)
                })
        }
        let workers = status.workers.map {
            WorkerRow(worker: $0.worker, running: DashboardText.count($0.running), oldest: "\($0.oldestLeaseSeconds) s")
        }
        let deadRecords = try JobLedger.list(state: .dead, limit: deadLimit, on: connection)
        let dead = deadRecords.map {
            DeadJob(
                id: $0.id, kind: $0.kind, queue: $0.queue, attempts: "\($0.attempt)", finishedAt: $0.finalizedAt ?? "",
                args: $0.args, errors: $0.errors)
        }
        let deadCount =
            try connection.query("SELECT count(*) FROM recon_jobs WHERE state = 'dead'", name: "dashboard: dead jobs")
            .first?.decode(Int64.self, at: 0) ?? 0

        // The bill days that have fetch attempts, newest first; the page shows one of them.
        let days = try connection.query(
            """
            SELECT DISTINCT bill_date::text FROM bill_fetch_attempts
            WHERE bill_date > (SELECT max(bill_date) FROM bill_fetch_attempts) - 60
            ORDER BY 1 DESC
            """, name: "dashboard: fetch days"
        ).rows.map { try $0.decode(String.self, at: 0) }
        let day = requested?.description ?? days.first
        var channels: [ChannelFetches] = []
        if let day, let local = LocalDay(day) {
            var outcomes: [String: String] = [:]
            for row in try connection.query(
                """
                SELECT channel, outcome, lines, to_char(fetched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                FROM bill_fetches WHERE bill_date = $1
                """, [local.pgDate], name: "dashboard: fetched bills"
            ).rows {
                outcomes[try row.decode(String.self, at: 0)] =
                    "\(try row.decode(String.self, at: 1)): \(DashboardText.count(try row.decode(Int64.self, at: 2))) lines staged at \(try row.decode(String.self, at: 3))"
            }
            var attempts: [String: [Attempt]] = [:]
            for row in try connection.query(
                """
                SELECT channel, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), job_id, attempt,
                       worker, step, url, http_status, bytes, duration_ms, outcome, detail
                FROM bill_fetch_attempts WHERE bill_date = $1 ORDER BY channel, id
                """, [local.pgDate], name: "dashboard: fetch attempts"
            ).rows {
                attempts[try row.decode(String.self, at: 0), default: []].append(
                    Attempt(
                        startedAt: try row.decode(String.self, at: 1),
                        job: try row.decode(Int64?.self, at: 2).map { "\($0)" } ?? "",
                        attempt: try row.decode(Int32?.self, at: 3).map { "\($0)" } ?? "",
                        worker: try row.decode(String?.self, at: 4) ?? "", step: try row.decode(String.self, at: 5),
                        url: try row.decode(String.self, at: 6),
                        http: try row.decode(Int32?.self, at: 7).map { "\($0)" } ?? "",
                        bytes: DashboardText.count(try row.decode(Int64.self, at: 8)),
                        milliseconds: DashboardText.count(try row.decode(Int64.self, at: 9)),
                        outcome: try row.decode(String.self, at: 10), detail: try row.decode(String?.self, at: 11) ?? ""
                    ))
            }
            channels = Set(attempts.keys).union(outcomes.keys).sorted().map {
                ChannelFetches(
                    channel: $0, outcome: outcomes[$0] ?? "no bill staged", attempts: attempts[$0] ?? [])
            }
        }
        var fetchDays = days.map { Option(value: $0, selected: $0 == day) }
        if let day, !days.contains(day) { fetchDays.insert(Option(value: day, selected: true), at: 0) }
        return JobsPage(
            chrome: chrome, csrf: chrome.csrf, flash: flash, problem: problem, states: states, counts: counts,
            hasCounts: !counts.isEmpty, workers: workers, hasWorkers: !workers.isEmpty, dead: dead,
            deadText: deadCount > Int64(deadLimit)
                ? "the newest \(deadLimit) of \(DashboardText.count(deadCount))" : DashboardText.count(deadCount),
            fetchDays: fetchDays, channels: channels)
    }
}
