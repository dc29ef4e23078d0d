import Foundation
public import Logging
public import ReconCore
public import ReconHTTP
public import ReconPostgres

/// Everything an adapter needs to fetch one channel's bill for one day: the channel, HTTP through
/// the channel's shared limits, a work folder of its own, and a record of every request.
public struct FetchSession: Sendable {
    public let channel: ChannelDefinition
    public let day: LocalDay
    /// `<download folder>/<channel>/<day>`: partial and finished downloads of this fetch.
    public let workFolder: String
    public let logger: Logger
    public let secrets: SecretResolver
    /// The job's attempt number (1 for the first), for channels whose codes are retried a few times only.
    public let attempt: Int
    let http: HTTPClient
    let limiter: ChannelLimiter?
    let recorder: AttemptRecorder?
    /// Unique per job attempt, so a slot held by this fetch is told apart from others.
    let holder: String

    public init(
        channel: ChannelDefinition, day: LocalDay, workFolder: String, http: HTTPClient, limiter: ChannelLimiter?,
        recorder: AttemptRecorder?, holder: String, secrets: SecretResolver = SecretResolver(), attempt: Int = 1,
        logger: Logger
    ) {
        self.attempt = attempt
        self.channel = channel
        self.day = day
        self.workFolder = workFolder
        self.http = http
        self.limiter = limiter
        self.recorder = recorder
        self.holder = holder
        self.secrets = secrets
        self.logger = logger
    }

    /// HTTP options from the channel's timeouts; `maxBody` caps an in-memory answer.
    func options(maxBody: Int64) -> HTTPOptions {
        var options = http.options
        options.connectTimeout = .milliseconds(channel.connectTimeoutMilliseconds)
        options.totalTimeout = .milliseconds(channel.totalTimeoutMilliseconds)
        options.maxBodySize = maxBody
        return options
    }

    /// One API call (the answer kept in memory, at most `maxBody` bytes), within the limits.
    public func send(step: String, _ request: HTTPRequest, maxBody: Int64 = 4 << 20) async throws -> HTTPResult {
        let result = try await limited { try await http.send(request, options: options(maxBody: maxBody)) }
        await recorder?.record(step: step, result: result)
        return result
    }

    /// A download streamed into `partialFile` (resumed with Range, and If-Range when a validator
    /// is given, when asked), within the limits.
    public func download(
        step: String, _ request: HTTPRequest, to partialFile: String, resume: Bool, ifRange: String? = nil, maxBytes: Int64
    ) async throws -> HTTPResult {
        let result = try await limited {
            try await http.download(
                request, to: partialFile, resume: resume, ifRange: ifRange, options: options(maxBody: maxBytes))
        }
        await recorder?.record(step: step, result: result)
        return result
    }

    private func limited(_ body: () async throws -> HTTPResult) async throws -> HTTPResult {
        guard let limiter else { return try await body() }
        return try await limiter.withPermit(
            channel: channel.name, limits: channel.limits, holder: holder,
            // A download may take two transfers (a resume refused, then from zero) and the pace wait.
            maxHoldMilliseconds: 2 * channel.totalTimeoutMilliseconds + 60_000, body)
    }
}

/// Writes one `bill_fetch_attempts` row per request: the URL without its query, the status, the
/// bytes, the time taken and curl's error. Recorded at once, outside the job's completion, so
/// the attempts of a fetch that fails are kept too.
public struct AttemptRecorder: Sendable {
    let pool: PGPool
    let channel: String
    let day: LocalDay
    let jobID: Int64?
    let attempt: Int?
    let worker: String
    let logger: Logger

    public init(pool: PGPool, channel: String, day: LocalDay, jobID: Int64?, attempt: Int?, worker: String, logger: Logger) {
        self.pool = pool
        self.channel = channel
        self.day = day
        self.jobID = jobID
        self.attempt = attempt
        self.worker = worker
        self.logger = logger
    }

    func record(step: String, result: HTTPResult) async {
        let milliseconds = result.duration.components.seconds * 1000 + result.duration.components.attoseconds / 1_000_000_000_000_000
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
