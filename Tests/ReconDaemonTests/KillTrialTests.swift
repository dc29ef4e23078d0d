import Foundation
import ReconCore
import ReconFixtures
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconTestSupport
import Testing

/// Issue 14's kill trials: a worker killed with SIGKILL at a random moment of a real four-channel
/// day (fetches, shards, finalize, settle, whichever is running then) must leave the day exactly
/// as a clean run leaves it: the same report rows, each once, and the same settlement bytes.
/// `RECON_TRIALS` sets how many (2 in the regular suite; RELIABILITY.md has a run of 20), and
/// `RECON_TRIAL_SEED` the first trial's seed: trial i uses seed + i, so a failing trial replays
/// alone with `RECON_TRIALS=1 RECON_TRIAL_SEED=<its seed>`.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct KillTrialTests {
    @Test func aWorkerKilledAtARandomMomentLeavesTheDayAsACleanRunDoes() async throws {
        let environment = ProcessInfo.processInfo.environment
        let trials = environment["RECON_TRIALS"].flatMap(Int.init) ?? 2
        let firstSeed = environment["RECON_TRIAL_SEED"].flatMap(UInt64.init) ?? 20_261_204
        let setup = try await DayRunTests.setUp(label: "kill-trials", lines: 300, shards: 4)
        // Shards pause between deciding and committing, so kills land inside them too.
        let faults = ["RECON_FAULT_SHARD_PAUSE_MS": "300"]
        try await DayRunTests.startDaemons(setup, workers: 3, environment: faults)
        let harness = setup.fixture.harness
        var lines: [String] = []
        for trial in 0..<trials {
            var run = try TrialDay(setup, trial: trial, firstSeed: firstSeed)
            // Within the first 2.5 s: a day of 300 lines a channel is mostly done by then.
            let delay = run.draw(below: 2_500)
            let pick = run.random.next()
            try await Task.sleep(for: .milliseconds(delay))
            // At that moment, a worker holding a job if any does (else any live one), picked by the seed.
            let holding = try await harness.pool.query(
                """
                SELECT lease_owner, string_agg(kind, ',' ORDER BY kind) FROM recon_jobs
                WHERE state = 'running' GROUP BY lease_owner ORDER BY lease_owner
                """
            ).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
            let live = harness.workers.filter { $0.process.isRunning }
            let candidates = holding.compactMap { owner in live.first { $0.name == owner.0 } }
            let choices = candidates.isEmpty ? live : candidates
            let victim = choices[Int(pick % UInt64(choices.count))]
            let running = holding.first { $0.0 == victim.name }?.1 ?? ""
            victim.signal(SIGKILL)
            _ = try await victim.waitForExit(timeout: .seconds(10))
            // A fresh worker takes its place, as systemd would restart it.
            try await DayRunTests.startWorker(setup, id: "trial\(trial)", environment: faults)

            let verdict = try await run.finish(setup)
            let day = run.day
            let retried = try await harness.count(
                """
                SELECT count(*) FROM recon_jobs WHERE attempt > 1
                    AND (args->>'date' = $1 OR args->>'business_date' = $1 OR unique_key LIKE '%' || $1 || '%')
                """, ["\(day)"])
            lines.append(
                "trial \(trial) seed \(run.seed) day \(day): killed \(victim.name) \(delay) ms after run-day began, "
                    + "running [\(running)]; jobs with a second attempt: \(retried); \(verdict)")
        }
        let completions = FaultTrialTests.completions(harness)
        #expect(completions.twice.isEmpty, "jobs completed twice: \(completions.twice)")
        lines.append("completions refused by the fence: \(completions.leaseLost)")
        print(lines.joined(separator: "\n"))
        await setup.fixture.stop()
    }
}
