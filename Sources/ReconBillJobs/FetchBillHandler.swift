public import Foundation
import Logging
import ReconBlocking
public import ReconChannels
public import ReconConfig
public import ReconCore
public import ReconHTTP
public import ReconJobs
import ReconMetrics
import ReconPostgres
public import ReconWorker

/// Where a worker keeps bill files: downloads in progress, and the raw files kept for audit.
public struct BillFolders: Sendable {
    /// Partial and finished downloads and staging files, per channel and day.
    public var downloads: String
    /// Raw bill files by SHA-256, kept after staging.
    public var archive: String

    public init(downloads: String, archive: String) {
        self.downloads = downloads
        self.archive = archive
    }
}

/// The `fetch_bill` job: `{"channel": "...", "date": "YYYY-MM-DD"}`. Downloads the channel's bill
/// for that date, verifies it, parses it into a staging file, keeps the raw file in the archive,
/// and in the job's fenced completion replaces the channel-day's staged lines with the new ones.
///
/// What the channel says decides the job's end (CHANNELS.md §5): not published yet snoozes (no
/// attempt used) until the channel's deadline and then goes dead with "bill for D not published
/// by HH:MM"; transient trouble retries with backoff (no sooner than a Retry-After); permanent
/// trouble is dead at once with the channel's own code and message.
public struct FetchBillHandler: JobHandler {
    public static let kind = "fetch_bill"

    public let channels: [ChannelDefinition]
    public let folders: BillFolders
    public let http: HTTPClient
    public let secrets: SecretResolver
    /// When the channel's "no bill" code is ambiguous (Alipay, UnionPay): whether our own records
    /// hold any payment leg for the channel-day (CHANNELS.md §5). None: an empty day. Some: the
    /// bill is not published yet (snooze until the deadline). Nil treats every such answer as not
    /// published, never silently as an empty day.
    public let ledgerHasLegs: (@Sendable (JobReads, String, LocalDay) async throws -> Bool)?

    /// Whether `payment_legs` holds a channel leg of `channel` on `day` (its business day).
    public static let paymentLegsExist: @Sendable (JobReads, String, LocalDay) async throws -> Bool = {
        reads, channel, day in
        try await reads.query(
            """
            SELECT EXISTS (SELECT 1 FROM payment_legs
                           WHERE leg_kind = 'channel' AND channel = $1 AND business_date = $2)
            """, [channel, day.pgDate], name: "fetch_bill: legs of the channel-day"
        ).first?.decode(Bool.self, at: 0) ?? false
    }
    /// Microseconds since 1970 now; tests move it. The adapters read it through `FetchSession`.
    public let clock: @Sendable () -> Int64

    struct Arguments: Decodable {
        var channel: String
        var date: String
    }

    public init(
        channels: [ChannelDefinition], folders: BillFolders, http: HTTPClient = HTTPClient(),
        secrets: SecretResolver = SecretResolver(),
        ledgerHasLegs: (@Sendable (JobReads, String, LocalDay) async throws -> Bool)? = paymentLegsExist,
        clock: @escaping @Sendable () -> Int64 = LocalTime.wallClockMicroseconds
    ) {
        self.channels = channels
        self.folders = folders
        self.http = http
        self.secrets = secrets
        self.ledgerHasLegs = ledgerHasLegs
        self.clock = clock
    }

    public var timeout: Duration? { nil }

    /// Log lines about a fetch_bill job, in workers and coordinators, name its channel and day.
    public static func addLogFields(to fields: inout JobLogFields) {
        fields.register(kind: kind, argument: "channel", as: "bill.channel")
        fields.register(kind: kind, argument: "date", as: "bill.date")
    }

    public func run(_ context: JobContext) async throws -> JobResult {
        let arguments: Arguments
        do {
            arguments = try JSONDecoder().decode(Arguments.self, from: Data(context.job.args.utf8))
        } catch {
            throw JobFailure(
                "fetch_bill arguments must be {\"channel\": \"...\", \"date\": \"YYYY-MM-DD\"}", retryable: false)
        }
        guard let channel = channels.first(where: { $0.name == arguments.channel }) else {
            // Retryable: during a rollout another worker may already have the new job file.
            throw JobFailure("no channel named \(arguments.channel) in this worker's job files", retryable: true)
        }
        guard let day = LocalDay(arguments.date) else {
            throw JobFailure("fetch_bill date \(arguments.date) is not YYYY-MM-DD", retryable: false)
        }
        // A snooze keeps the attempt number: attempt n > 1 is the (n-1)th retry after a failure.
        if context.job.attempt > 1 { ReconMetrics.downloadRetried(channel: channel.name) }
        context.committed.add { ReconMetrics.dayStage(Self.kind, ContinuousClock.now - context.started) }
        var logger = context.logger
        logger[metadataKey: "bill.channel"] = "\(channel.name)"
        logger[metadataKey: "bill.date"] = "\(day)"
        // One folder per job: its attempts resume each other's downloads, and two fetches of the
        // same day (a manual one beside the scheduled one) never touch each other's files.
        let workFolder = "\(folders.downloads)/\(channel.name)/\(day)/job-\(context.job.id)"
        // The folder goes once nothing in it is worth resuming (no partial download with a
        // validator to resume it by).
        context.cleanup.add {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: workFolder)) ?? []
            if !names.contains(where: { $0.hasSuffix(".part.validator") }) {
                try? FileManager.default.removeItem(atPath: workFolder)
            }
        }
        // The limiter's slots and the attempts' records are bookkeeping that must land whatever
        // becomes of this attempt: written at once, unfenced, through `sideEffects`.
        let session = FetchSession(
            channel: channel, day: day, workFolder: workFolder, http: http,
            limiter: ChannelLimiter(
                pool: context.sideEffects, lease: LeaseRef(id: context.job.id, token: context.job.token)),
            recorder: AttemptRecorder(
                pool: context.sideEffects, channel: channel.name, day: day, jobID: context.job.id,
                attempt: context.job.attempt,
                worker: context.worker, logger: logger),
            holder: "\(context.worker)/\(context.job.id)/\(context.job.token)", secrets: secrets,
            attempt: context.job.attempt, clock: clock,
            logger: logger)

        let started = ContinuousClock.now
        let outcome: FetchOutcome
        do {
            outcome = try await ChannelAdapters.make(for: channel).fetch(session)
        } catch let error as ChannelError {
            ReconMetrics.downloadFailed(channel: channel.name)
            // Nothing more will be asked for by this job: its partial downloads can go.
            if case .permanent = error { try? FileManager.default.removeItem(atPath: workFolder) }
            throw Self.jobFailure(error, channel: channel, day: day)
        }
        var staged = StagedBill(
            channel: channel.name, day: day, bill: nil, keyRule: channel.keyRule, jobID: context.job.id,
            leaseToken: context.job.token, worker: context.worker)
        switch outcome {
        case .notReady(let reason):
            return try await notPublished(reason, channel: channel, day: day, context: context, logger: logger)
        case .noBill(let reason):
            guard let ledgerHasLegs, try await !ledgerHasLegs(context.reads, channel.name, day) else {
                return try await notPublished(reason, channel: channel, day: day, context: context, logger: logger)
            }
        case .emptyDay(let reason):
            logger.info("no business that day", metadata: ["reason": "\(reason)"])
        case .ready(let bill):
            // Kept for audit before staging, named by content: a refused bill is there to look at too,
            // and the next attempt downloads afresh.
            let archive = BillArchive(folder: folders.archive)
            let archived = try await BlockingExecutor.shared.run {
                try archive.keep(
                    bill.path, channel: channel.name, sha256: bill.sha256, fileExtension: bill.fileExtension)
            }
            staged.bill = bill.moved(to: archived)
            staged.fetchMilliseconds = (ContinuousClock.now - started).clampedDelayMilliseconds
            logger.info(
                "bill downloaded; parsing into staging",
                metadata: [
                    "sha256": "\(bill.sha256)", "bytes": "\(bill.bytes)",
                    "fetch_ms": "\(staged.fetchMilliseconds ?? 0)",
                ])
        }
        // The bill is parsed in the completion, straight into COPY, in a transaction of its own. A
        // bill that contradicts its own totals fails there for good (dead at once), a damaged one
        // retryably.
        let stage = staged
        return .completeAlone { connection in
            do {
                try stage.write(on: connection)
            } catch let error as ChannelError {
                // The archived file stays for audit, marked as refused.
                if let path = stage.bill?.path { BillArchive.markRefused(path, reason: "\(error)") }
                throw Self.jobFailure(error, channel: channel, day: day)
            }
            // Before the commit, which may still fail: harmless, the bytes did parse.
            if let path = stage.bill?.path { BillArchive.clearRefusal(path) }
        }
    }

    /// Before the deadline: snooze until the ready time, or for the poll interval once past it.
    /// After: dead, with the alert's words (`PublicationPolicy` decides).
    private func notPublished(
        _ reason: String, channel: ChannelDefinition, day: LocalDay, context: JobContext, logger: Logger
    ) async throws -> JobResult {
        let now = clock()
        // This attempt's asks so far, this one included: every request is in bill_fetch_attempts
        // (written before the adapter returns), one per ask when not ready, and a snooze keeps the
        // attempt number, while a retry (after a failure, or `recon jobs retry`) starts a new one.
        // None counted means the record is failing: then no late asks, as without a count.
        let counted = try await context.sideEffects.query(
            "SELECT count(*) FROM bill_fetch_attempts WHERE job_id = $1 AND attempt = $2",
            [context.job.id, Int64(context.job.attempt)], name: "fetch: count asks"
        ).first?.decode(Int64.self, at: 0)
        let asks = counted.flatMap { $0 > 0 ? Int($0) : nil }
        switch channel.publicationPolicy(for: day).decide(now: now, reason: reason, asks: asks) {
        case .dead(let message):
            throw JobFailure(message, retryable: false)
        case .snooze(let until):
            logger.info("bill not published yet; asking again later", metadata: ["reason": "\(reason)"])
            return .snooze(.microseconds(max(1000, until - now)))
        }
    }

    static func jobFailure(_ error: ChannelError, channel: ChannelDefinition, day: LocalDay) -> JobFailure {
        switch error {
        case .transient(let message, let retryAfter):
            return JobFailure("\(channel.name) \(day): \(message)", retryable: true, retryAfter: retryAfter)
        case .permanent(let message):
            return JobFailure("\(channel.name) \(day): \(message)", retryable: false)
        }
    }
}
