import Foundation
public import Logging
public import ReconConfig
public import ReconCore
public import ReconHTTP

/// Holds fetches of every worker to a channel's limits (concurrent requests, requests per
/// second). ReconBillJobs implements it in PostgreSQL; adapters only ask for a permit.
public protocol ChannelPermits: Sendable {
    func withPermit<T: Sendable>(
        channel: String, limits: ChannelLimits, holder: String, maxHoldMilliseconds: Int64,
        _ body: () async throws -> T
    ) async throws -> T
}

/// Keeps a record of every HTTP request a fetch makes (ReconBillJobs writes `bill_fetch_attempts`).
public protocol FetchAttemptLog: Sendable {
    func record(step: String, result: HTTPResult) async
}

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
    /// Microseconds since 1970 now: the job handler's clock, which tests move. Adapters read the
    /// time (request timestamps) only from here, never from the machine.
    public let clock: @Sendable () -> Int64
    let http: HTTPClient
    let limiter: (any ChannelPermits)?
    let recorder: (any FetchAttemptLog)?
    /// Unique per job attempt, so a slot held by this fetch is told apart from others.
    let holder: String

    public init(
        channel: ChannelDefinition, day: LocalDay, workFolder: String, http: HTTPClient, limiter: (any ChannelPermits)?,
        recorder: (any FetchAttemptLog)?, holder: String, secrets: SecretResolver = SecretResolver(), attempt: Int = 1,
        clock: @escaping @Sendable () -> Int64 = LocalTime.wallClockMicroseconds, logger: Logger
    ) {
        self.attempt = attempt
        self.clock = clock
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

    /// Seconds since 1970 now, by `clock`.
    public var unixSeconds: Int64 { LocalTime.unixSeconds(atMicroseconds: clock()) }

    /// Beijing wall-clock seconds now, by `clock` (the channels' APIs take Beijing time).
    public var beijingSeconds: Int64 { LocalTime.beijingSeconds(atMicroseconds: clock()) }

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
        step: String, _ request: HTTPRequest, to partialFile: String, resume: Bool, ifRange: String? = nil,
        maxBytes: Int64
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
