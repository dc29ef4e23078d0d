import Logging
import ReconJobs
import ReconPostgres
import ServiceLifecycle

/// The coordinator's background work: return expired leases (reaper), release dependants that a
/// missed promotion left pending (sweep), delete old finished jobs (prune), and turn NOTIFYs into
/// wake-ups for long-polls. Every step is safe with several coordinators on one database: rows
/// are taken with SKIP LOCKED or changed by idempotent statements.
struct MaintenanceService: Service {
    let pool: PGPool
    let wakeups: JobWakeups
    let listenerConnectionString: String
    let reapInterval: Duration
    let retentionMilliseconds: Int64
    let logger: Logger
    let outcomes: JobOutcomeLog

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await forwardNotifications() }
            group.addTask { await every(reapInterval, "reaper", reap) }
            group.addTask { await every(.seconds(10), "dependency sweep", sweep) }
            group.addTask { await every(.seconds(3600), "prune", prune) }
            try await group.next()
            group.cancelAll()
        }
    }

    func reap() async throws {
        let (unreceived, reaped) = try await pool.transaction(name: "reaper") { connection in
            var random = SystemRandomNumberGenerator()
            // Leases whose answer never reached their worker first: they go back without using an attempt.
            let unreceived = try JobLedger.releaseUnreceived(limit: 1000, on: connection)
            return (unreceived, try JobLedger.reapExpired(limit: 1000, on: connection, random: &random))
        }
        for lease in unreceived { outcomes.unreceived(lease) }
        for attempt in reaped { outcomes.failed(attempt, .leaseExpired) }
        // A failed attempt with no backoff is due at once, without a NOTIFY.
        if !reaped.isEmpty || !unreceived.isEmpty { wakeups.bumpAll() }
    }

    private func sweep() async throws {
        let promoted = try await pool.transaction(name: "dependency sweep") { connection in
            try JobLedger.promoteReady(among: nil, on: connection)
        }
        if promoted > 0 { logger.info("released held jobs", metadata: ["jobs.promoted": "\(promoted)"]) }
    }

    private func prune() async throws {
        // Batch after batch until one comes back short, with a pause between them so pruning
        // millions of rows never holds up leasing.
        let retention = retentionMilliseconds
        var total = 0
        while !Task.isCancelled {
            let pruned = try await pool.withConnection { connection in
                try JobLedger.prune(olderThanMilliseconds: retention, batch: 10_000, on: connection)
            }
            total += pruned
            if pruned < 10_000 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        // Lease answers are asked for again within a call's timeout; a day is plenty.
        try await pool.withConnection { try JobLedger.pruneLeaseRequests(olderThanMilliseconds: 86_400_000, on: $0) }
        if total > 0 { logger.info("pruned finished jobs", metadata: ["jobs.pruned": "\(total)"]) }
    }

    /// Runs `step` every `interval` until shutdown; a failing step is logged and tried again.
    private func every(_ interval: Duration, _ name: String, _ step: @Sendable () async throws -> Void) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await step()
            } catch {
                logger.error("maintenance step failed", metadata: ["step": "\(name)", "error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func forwardNotifications() async {
        let listener = PGListener(connectionString: listenerConnectionString, channels: [JobLedger.notifyChannel])
        defer { listener.stop() }
        await withTaskCancellationHandler {
            for await event in listener.events.cancelOnGracefulShutdown() {
                switch event {
                case .notification(let notification):
                    // The payload names the queue that got work; only its long-polls wake.
                    wakeups.bump(queue: notification.payload)
                case .listening, .overflowed:
                    // A reconnect or an overflow may have lost notifications: anyone may have work.
                    wakeups.bumpAll()
                }
            }
        } onCancel: {
            listener.stop()
        }
    }
}
