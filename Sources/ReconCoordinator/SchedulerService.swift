import Foundation
import Logging
import ReconConfig
import ReconCore
import ReconJobs
import ReconPostgres
import ServiceLifecycle

/// Enqueues the jobs of the job files' `[[schedule]]`s when their cron fires.
///
/// Stateless on purpose: every tick it enqueues the firings `FiringMemo` says are due (those
/// within each schedule's catch-up window) under their unique keys. Two coordinators firing
/// together, a coordinator restarting, and firings missed while none ran all end the same way:
/// one job per firing. The memo only saves asking the database again about firings already done.
struct SchedulerService: Service {
    let pool: PGPool
    let schedules: [ScheduleDefinition]
    let tick: Duration
    let logger: Logger

    func run() async throws {
        guard !schedules.isEmpty else { return }
        var memo = FiringMemo()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = Date()
            for definition in schedules {
                do {
                    try await fire(definition, now: now, memo: &memo)
                } catch {
                    logger.error(
                        "scheduling failed", metadata: ["schedule.name": "\(definition.name)", "error": "\(error)"])
                }
            }
            memo.forget(before: now, schedules: schedules)
            try? await Task.sleep(for: tick)
        }
    }

    private func fire(_ definition: ScheduleDefinition, now: Date, memo: inout FiringMemo) async throws {
        let firings = memo.due(definition, now: now)
        guard !firings.isEmpty else { return }
        let jobs = firings.map { firing in
            NewJob(
                kind: definition.kind, queue: definition.queue, args: firing.args, priority: definition.priority,
                retry: definition.retry, uniqueKey: firing.uniqueKey)
        }
        let results = try await pool.transaction(name: "scheduler") { try JobLedger.enqueue(jobs, on: $0) }
        for (firing, (job, result)) in zip(firings, zip(jobs, results)) {
            memo.enqueued(firing)
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
}
