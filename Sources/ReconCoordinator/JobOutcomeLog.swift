import Logging
import ReconJobs
import ReconMetrics

/// The coordinator's word on each failed attempt it records, one line per job: a failure a worker
/// reported (`POST /v1/fail`) or a lease the reaper found expired, and whether the job runs again
/// or is dead. The lines carry `job.id`, `job.kind`, `job.attempt`, `job.outcome` and the kind's
/// fields (`bill.channel`, `bill.date`), so a dead-lettered bill shows in the log.
struct JobOutcomeLog: Sendable {
    let logger: Logger
    let fields: JobLogFields

    /// Where the failure came from.
    enum Source {
        /// The worker reported it.
        case reported
        /// The lease expired without a word from the worker.
        case leaseExpired
    }

    func failed(_ attempt: FailedAttempt, _ source: Source) {
        // Counted here, where the failure is recorded, so a reaped lease counts like a reported one.
        ReconMetrics.jobFailed(kind: attempt.kind)
        if attempt.retryAt == nil { ReconMetrics.jobDead(kind: attempt.kind) }
        var metadata = Logger.Metadata()
        for (key, value) in fields.metadata(
            id: attempt.id, kind: attempt.kind, attempt: attempt.attempt, args: attempt.args)
        {
            metadata[key] = "\(value)"
        }
        metadata["worker.id"] = "\(attempt.worker ?? "?")"
        metadata["error"] = "\(attempt.error)"
        if let retryAt = attempt.retryAt {
            metadata["job.outcome"] = "retried"
            metadata["job.retry_at"] = "\(retryAt)"
            switch source {
            case .reported: logger.info("job failed; it runs again later", metadata: metadata)
            case .leaseExpired: logger.warning("lease expired; the job runs again later", metadata: metadata)
            }
        } else {
            metadata["job.outcome"] = "dead"
            switch source {
            case .reported: logger.error("job failed; it is dead", metadata: metadata)
            case .leaseExpired: logger.error("lease expired on the job's last attempt; it is dead", metadata: metadata)
            }
        }
    }

    /// A lease whose answer never reached its worker, put back without using an attempt.
    func unreceived(_ lease: UnreceivedLease) {
        var metadata = Logger.Metadata()
        for (key, value) in fields.metadata(id: lease.id, kind: lease.kind, attempt: lease.attempt, args: lease.args) {
            metadata[key] = "\(value)"
        }
        metadata["worker.id"] = "\(lease.worker ?? "?")"
        metadata["lease.request"] = "\(lease.request)"
        metadata["job.outcome"] = "unreceived"
        logger.warning(
            "lease answer never reached the worker; the job goes back without using an attempt", metadata: metadata)
    }
}
