import Foundation
import Logging
import ReconConfig
import ReconCore
import ReconJobs
import ReconPostgres
import ServiceLifecycle

/// Enqueues the jobs of the job files' `[[schedule]]`s when their cron fires.
///
/// Stateless on purpose: every tick it looks at the firings within each schedule's catch-up
/// window and enqueues them under their unique keys. Two coordinators firing together, a
/// coordinator restarting, and firings missed while none ran all end the same way: one job per
/// firing. The in-memory set only saves asking the database again about firings already done.
struct SchedulerService: Service {
    let pool: PGPool
    let schedules: [ScheduleDefinition]
    let tick: Duration
    let logger: Logger

    func run() async throws {
        guard !schedules.isEmpty else { return }
        var done: Set<String> = []
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = Date()
            for definition in schedules {
                do {
                    try await fire(definition, now: now, done: &done)
                } catch {
                    logger.error(
                        "scheduling failed", metadata: ["schedule.name": "\(definition.name)", "error": "\(error)"])
                }
            }
            // Forget firings older than any window: they will not be looked at again.
            let horizon = now.addingTimeInterval(-Double(schedules.map(\.catchUpMilliseconds).max() ?? 0) / 1000 - 3600)
            done = done.filter { key in
                key.split(separator: "|").last.flatMap { Double($0) }.map { $0 >= horizon.timeIntervalSince1970 }
                    ?? false
            }
            try? await Task.sleep(for: tick)
        }
    }

    private func fire(_ definition: ScheduleDefinition, now: Date, done: inout Set<String>) async throws {
        let windowStart = now.addingTimeInterval(-Double(definition.catchUpMilliseconds) / 1000)
        let firings = definition.schedule.fires(between: windowStart, and: now)
            .filter { !done.contains(Self.key(definition, $0)) }
        guard !firings.isEmpty else { return }
        let jobs = firings.map { instant in
            let (args, uniqueKey) = definition.firing(at: instant)
            return NewJob(
                kind: definition.kind, queue: definition.queue, args: args, priority: definition.priority,
                retry: definition.retry, uniqueKey: uniqueKey)
        }
        let results = try await pool.transaction(name: "scheduler") { try JobLedger.enqueue(jobs, on: $0) }
        for (instant, (job, result)) in zip(firings, zip(jobs, results)) {
            done.insert(Self.key(definition, instant))
            if result.inserted {
                logger.info(
                    "schedule fired",
                    metadata: [
                        "schedule.name": "\(definition.name)", "job.id": "\(result.id)", "job.kind": "\(job.kind)",
                        "job.unique_key": "\(job.uniqueKey ?? "")",
                    ])
            }
        }
    }

    private static func key(_ definition: ScheduleDefinition, _ instant: Date) -> String {
        "\(definition.name)|\(instant.timeIntervalSince1970)"
    }
}
