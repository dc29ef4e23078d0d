public import ReconCore
import ReconJobs
public import ReconPostgres

/// What `recon bills show` prints for a channel-day: what was staged and from which file, the
/// staged rows counted again from the table, and every download attempt.
public struct BillReport: Sendable, Codable {
    public struct Fetch: Sendable, Codable {
        public var outcome: String
        public var fileSHA256: String?
        public var fileBytes: Int64
        public var archivePath: String?
        public var lines: Int64
        public var payments: Int64
        public var refunds: Int64
        public var amountFen: Int64
        public var feeFen: Int64
        public var flagged: Int64
        public var feeRoundingUnits: Int64
        public var declaredTotals: String?
        public var jobID: Int64?
        public var worker: String?
        public var fetchedAt: String
        /// Where the time went (milliseconds; nil for fetches recorded before they were kept).
        public var fetchMilliseconds: Int64?
        public var stageMilliseconds: Int64?
        public var parseCPUMilliseconds: Int64?
    }

    public struct Attempt: Sendable, Codable {
        public var jobID: Int64?
        public var attempt: Int?
        public var step: String
        public var url: String
        public var httpStatus: Int?
        public var bytes: Int64
        public var durationMilliseconds: Int64
        public var outcome: String
        public var detail: String?
        public var startedAt: String
    }

    public var channel: String
    public var date: String
    public var fetch: Fetch?
    /// Counted from staged_bill_lines now: must agree with `fetch`.
    public var stagedLines: Int64
    public var stagedAmountFen: Int64
    public var stagedFeeFen: Int64
    public var attempts: [Attempt]

    public static func load(channel: String, day: LocalDay, on connection: PGConnection) throws -> BillReport {
        let fetch = try connection.query(
            """
            SELECT outcome, file_sha256, file_bytes, archive_path, lines, payments, refunds, amount_fen, fee_fen, flagged,
                   fee_rounding_units, declared_totals, job_id, worker, to_char(fetched_at, 'YYYY-MM-DD"T"HH24:MI:SSOF'),
                   fetch_ms, stage_ms, parse_cpu_ms
            FROM bill_fetches WHERE channel = $1 AND bill_date = $2
            """, [channel, day.pgDate], name: "bills show: fetch"
        ).first.map { row in
            Fetch(
                outcome: try row.decode(String.self, at: 0), fileSHA256: try row.decode(String?.self, at: 1),
                fileBytes: try row.decode(Int64.self, at: 2), archivePath: try row.decode(String?.self, at: 3),
                lines: try row.decode(Int64.self, at: 4), payments: try row.decode(Int64.self, at: 5),
                refunds: try row.decode(Int64.self, at: 6), amountFen: try row.decode(Int64.self, at: 7),
                feeFen: try row.decode(Int64.self, at: 8), flagged: try row.decode(Int64.self, at: 9),
                feeRoundingUnits: try row.decode(Int64.self, at: 10),
                declaredTotals: try row.decode(String?.self, at: 11),
                jobID: try row.decode(Int64?.self, at: 12), worker: try row.decode(String?.self, at: 13),
                fetchedAt: try row.decode(String.self, at: 14), fetchMilliseconds: try row.decode(Int64?.self, at: 15),
                stageMilliseconds: try row.decode(Int64?.self, at: 16),
                parseCPUMilliseconds: try row.decode(Int64?.self, at: 17))
        }
        let staged = try connection.query(
            """
            SELECT count(*)::int8, coalesce(sum(amount_fen), 0)::int8, coalesce(sum(fee_fen), 0)::int8
            FROM staged_bill_lines WHERE channel = $1 AND bill_date = $2
            """, [channel, day.pgDate], name: "bills show: staged totals")
        let attempts = try connection.query(
            """
            SELECT job_id, attempt, step, url, http_status, bytes, duration_ms, outcome, detail,
                   to_char(started_at, 'YYYY-MM-DD"T"HH24:MI:SS.MSOF')
            FROM bill_fetch_attempts WHERE channel = $1 AND bill_date = $2 ORDER BY id
            """, [channel, day.pgDate], name: "bills show: attempts"
        ).rows.map { row in
            Attempt(
                jobID: try row.decode(Int64?.self, at: 0), attempt: try row.decode(Int?.self, at: 1),
                step: try row.decode(String.self, at: 2), url: try row.decode(String.self, at: 3),
                httpStatus: try row.decode(Int?.self, at: 4), bytes: try row.decode(Int64.self, at: 5),
                durationMilliseconds: try row.decode(Int64.self, at: 6), outcome: try row.decode(String.self, at: 7),
                detail: try row.decode(String?.self, at: 8), startedAt: try row.decode(String.self, at: 9))
        }
        let totals = staged.first
        return BillReport(
            channel: channel, date: day.description, fetch: fetch,
            stagedLines: try totals?.decode(Int64.self, at: 0) ?? 0,
            stagedAmountFen: try totals?.decode(Int64.self, at: 1) ?? 0,
            stagedFeeFen: try totals?.decode(Int64.self, at: 2) ?? 0,
            attempts: attempts)
    }

    /// When `job`, which ended `state`, is not the fetch whose rows are staged: a line that says so,
    /// to print before the report, so that no one reads another fetch's rows as this job's.
    public func otherFetchNote(job: Int64, ended state: String) -> String? {
        guard let fetch, fetch.jobID != job else { return nil }
        return "job \(job) ended \(state) and staged nothing; the rows below are another fetch's (job "
            + "\(fetch.jobID.map(String.init) ?? "-"), fetched \(fetch.fetchedAt))"
    }

    /// For people: the staged totals, the file, then one line per attempt.
    public var text: String {
        var lines = ["\(channel) \(date)"]
        if let fetch {
            lines.append(
                "  staged: \(fetch.outcome), \(fetch.lines) lines (\(fetch.payments) payments, \(fetch.refunds) refunds), "
                    + "amount \(Money.yuanText(fen: fetch.amountFen)) yuan, fee \(Money.yuanText(fen: fetch.feeFen)) yuan"
                    + (fetch.flagged > 0 ? ", \(fetch.flagged) flagged" : ""))
            if let declared = fetch.declaredTotals { lines.append("  bill's own totals: \(declared)") }
            if fetch.feeRoundingUnits != 0 { lines.append("  fee rounding: \(fetch.feeRoundingUnits) × 0.00001 yuan") }
            lines.append(
                "  file: sha256 \(fetch.fileSHA256 ?? "-"), \(fetch.fileBytes) bytes, archived at \(fetch.archivePath ?? "-")"
            )
            lines.append(
                "  fetched \(fetch.fetchedAt) by job \(fetch.jobID.map(String.init) ?? "-") on \(fetch.worker ?? "-")")
            if let fetchMS = fetch.fetchMilliseconds, let stageMS = fetch.stageMilliseconds {
                lines.append(
                    "  time: \(fetchMS) ms to download and verify, \(stageMS) ms to stage"
                        + (fetch.parseCPUMilliseconds.map { " (of which \($0) ms parse CPU)" } ?? ""))
            }
        } else {
            lines.append("  nothing staged")
        }
        lines.append(
            "  rows in staged_bill_lines: \(stagedLines), amount \(Money.yuanText(fen: stagedAmountFen)) yuan, fee \(Money.yuanText(fen: stagedFeeFen)) yuan"
        )
        // Every HTTP request of every job of this channel-day, so not a count of attempts.
        let jobs = Set(attempts.compactMap(\.jobID)).count
        let jobAttempts = Set(attempts.compactMap { attempt in attempt.jobID.map { "\($0)#\(attempt.attempt ?? 0)" } })
            .count
        lines.append(
            "  requests: \(attempts.count), by \(jobs) job\(jobs == 1 ? "" : "s") in \(jobAttempts) "
                + "attempt\(jobAttempts == 1 ? "" : "s")")
        for attempt in attempts {
            lines.append(
                "    \(attempt.startedAt) job \(attempt.jobID.map(String.init) ?? "-")#\(attempt.attempt.map(String.init) ?? "-") "
                    + "\(attempt.step): \(attempt.outcome) HTTP \(attempt.httpStatus.map(String.init) ?? "-"), \(attempt.bytes) bytes, "
                    + "\(attempt.durationMilliseconds) ms \(attempt.url)" + (attempt.detail.map { " (\($0))" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}
