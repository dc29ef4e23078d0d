import CoreMetrics
import Prometheus
import Synchronization

/// Every metric Recon records, under its Prometheus name, and the registry they land in.
///
/// Each event is counted once, by the process that decides it: a coordinator counts leases,
/// failed and dead attempts (reported or found expired by its reaper) and snoozes; a worker
/// counts completions (its fenced commit decides them), downloads and reconciled items. The
/// scrapes of every coordinator and worker add up to what happened, with no double counting.
///
/// Until `bootstrap()` the calls below go to swift-metrics' no-op backend (tests in-process).
public enum ReconMetrics {
    static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Sends swift-metrics to the Prometheus registry; the first call in a process does it, later
    /// ones do nothing (swift-metrics allows one bootstrap per process).
    public static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            var factory = PrometheusMetricsFactory(registry: registry)
            // A day's stages run from a second to hours; the default buckets stop at 10 s.
            factory.durationHistogramBuckets[Name.dayStageSeconds] = [
                .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60),
                .seconds(300), .seconds(900), .seconds(1800), .seconds(3600), .seconds(4 * 3600),
            ]
            MetricsSystem.bootstrap(factory)
        }
    }

    public static var isBootstrapped: Bool { bootstrapped.withLock { $0 } }

    /// The Prometheus text exposition format (version 0.0.4) of everything recorded so far.
    public static func exposition() -> String { registry.emitToString() }

    /// The content type Prometheus expects with `exposition()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The names, in one place so the README and the tests can name them too.
    public enum Name {
        public static let jobsLeased = "recon_jobs_leased_total"
        public static let jobsCompleted = "recon_jobs_completed_total"
        public static let jobsFailed = "recon_jobs_failed_total"
        public static let jobsSnoozed = "recon_jobs_snoozed_total"
        public static let jobsDead = "recon_jobs_dead_total"
        public static let leaseLatencySeconds = "recon_lease_latency_seconds"
        public static let jobs = "recon_jobs"
        public static let downloadBytes = "recon_download_bytes_total"
        public static let downloadRetries = "recon_download_retries_total"
        public static let downloadFailures = "recon_download_failures_total"
        public static let reconciledItems = "recon_reconciled_items_total"
        public static let reconciledAmountFen = "recon_reconciled_amount_fen_total"
        public static let dayStageSeconds = "recon_day_stage_seconds"
    }

    // MARK: Jobs (coordinator: leased, failed, snoozed, dead; worker: completed)

    /// Jobs handed out by a lease call.
    public static func jobsLeased(kind: String, count: Int = 1) {
        Counter(label: Name.jobsLeased, dimensions: [("kind", kind)]).increment(by: count)
    }

    /// Jobs whose fenced completion committed.
    public static func jobCompleted(kind: String) {
        Counter(label: Name.jobsCompleted, dimensions: [("kind", kind)]).increment()
    }

    /// Failed attempts recorded: reported by a worker or found expired by the reaper, whether the
    /// job runs again or not (`jobDead` counts the latter once more).
    public static func jobFailed(kind: String) {
        Counter(label: Name.jobsFailed, dimensions: [("kind", kind)]).increment()
    }

    /// Jobs put off without using an attempt (a bill not published yet, a kind this worker lacks).
    public static func jobSnoozed(kind: String) {
        Counter(label: Name.jobsSnoozed, dimensions: [("kind", kind)]).increment()
    }

    /// Jobs that went dead: no attempt left, or a failure no retry can help.
    public static func jobDead(kind: String) {
        Counter(label: Name.jobsDead, dimensions: [("kind", kind)]).increment()
    }

    /// A worker's lease call that brought work, from request to answer (long-poll wait included).
    public static func leaseLatency(_ duration: Duration) {
        Timer(label: Name.leaseLatencySeconds).recordNanoseconds(duration.nanoseconds)
    }

    /// Jobs in a queue and state now, as the coordinator last read the table.
    public static func jobs(queue: String, state: String, count: Int64) {
        Gauge(label: Name.jobs, dimensions: [("queue", queue), ("state", state)]).record(count)
    }

    // MARK: Downloads (worker)

    /// Bytes received from a channel, every request's (a bill, a digest, an error page).
    public static func downloadBytes(channel: String, _ bytes: Int64) {
        guard bytes > 0 else { return }
        Counter(label: Name.downloadBytes, dimensions: [("channel", channel)]).increment(by: bytes)
    }

    /// A fetch_bill attempt after the first: the channel's bill asked for again after a failure.
    public static func downloadRetried(channel: String) {
        Counter(label: Name.downloadRetries, dimensions: [("channel", channel)]).increment()
    }

    /// A fetch_bill attempt that the channel failed (transient or permanent trouble).
    public static func downloadFailed(channel: String) {
        Counter(label: Name.downloadFailures, dimensions: [("channel", channel)]).increment()
    }

    // MARK: Reconciliation (worker)

    /// Items a committed reconcile shard decided, and their amount.
    ///
    /// Money is `Int64` fen, never `Double`: the counter adds whole fen as integers. Prometheus
    /// itself stores samples as 64-bit floats, which hold every integer below 2^53 fen (about 90
    /// trillion yuan) exactly. The amount is each item's absolute amount (the bill's where the
    /// channel has the item, else the payment center's), since a counter never goes down.
    public static func reconciled(channel: String, status: String, items: Int64, amountFen: Int64) {
        let dimensions = [("channel", channel), ("status", status)]
        if items > 0 { Counter(label: Name.reconciledItems, dimensions: dimensions).increment(by: items) }
        if amountFen > 0 { Counter(label: Name.reconciledAmountFen, dimensions: dimensions).increment(by: amountFen) }
    }

    /// How long one stage of a day took, from its job's start on a worker to its commit: `stage`
    /// is the job kind (fetch_bill, run_day, reconcile, finalize, reconcile_virtual, settle).
    public static func dayStage(_ stage: String, _ duration: Duration) {
        Timer(label: Name.dayStageSeconds, dimensions: [("stage", stage)]).recordNanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole &+ attoseconds / 1_000_000_000
    }
}
