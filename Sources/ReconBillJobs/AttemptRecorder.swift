public import Logging
public import ReconChannels
public import ReconCore
public import ReconHTTP
import ReconJobs
import ReconMetrics
public import ReconPostgres

/// Writes one `bill_fetch_attempts` row per request: the URL without its query, the status, the
/// bytes, the time taken and curl's error. Recorded at once, outside the job's completion, so
/// the attempts of a fetch that fails are kept too.
public struct AttemptRecorder: FetchAttemptLog {
    let pool: PGPool
    let channel: String
    let day: LocalDay
    let jobID: Int64?
    let attempt: Int?
    let worker: String
    let logger: Logger

    public init(
        pool: PGPool, channel: String, day: LocalDay, jobID: Int64?, attempt: Int?, worker: String, logger: Logger
    ) {
        self.pool = pool
        self.channel = channel
        self.day = day
        self.jobID = jobID
        self.attempt = attempt
        self.worker = worker
        self.logger = logger
    }

    public func record(step: String, result: HTTPResult) async {
        let milliseconds =
            result.duration.components.seconds * 1000 + result.duration.components.attoseconds / 1_000_000_000_000_000
        let outcome: String
        switch result.outcome {
        case .completed: outcome = "completed"
        case .timedOut: outcome = "timed_out"
        case .connectFailed: outcome = "connect_failed"
        case .lowSpeedAbort: outcome = "too_slow"
        case .bodyTooLarge: outcome = "too_large"
        case .cutOff: outcome = "cut_off"
        case .tlsFailure: outcome = "tls_failure"
        case .cancelled: outcome = "cancelled"
        case .other(let code): outcome = "curl_\(code)"
        }
        let detail: String? = result.curlCode == 0 ? nil : "curl \(result.curlCode): \(result.curlMessage)"
        ReconMetrics.downloadBytes(channel: channel, result.bytesReceived)
        do {
            try await pool.query(
                """
                INSERT INTO bill_fetch_attempts
                    (channel, bill_date, job_id, attempt, worker, step, url, http_status, bytes, duration_ms, outcome, detail,
                     started_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, clock_timestamp() - $10 * interval '1 millisecond')
                """,
                [
                    channel, day.pgDate, jobID, attempt, worker, step, result.redactedURL, result.status,
                    result.bytesReceived, milliseconds, outcome, detail,
                ], name: "record fetch attempt")
        } catch {
            logger.warning("could not record a fetch attempt", metadata: ["error": "\(error)"])
        }
    }
}
