import Foundation
import ReconCore
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct LeasingTests {
    @Test func twoWorkersAndTwoCoordinatorsCompleteTenThousandJobsExactlyOnce() async throws {
        let harness = try await DaemonHarness(label: "tenk")
        try await harness.startCoordinator()
        try await harness.startCoordinator()
        let total = 10_000
        for start in stride(from: 0, to: total, by: 2_000) {
            _ = try await harness.enqueue((start..<start + 2_000).map { _ in NewJob(kind: "probe") })
        }
        try await harness.startWorker(slots: 4, id: "worker-a")
        try await harness.startWorker(slots: 4, id: "worker-b")
        try await eventually("all \(total) jobs completed", timeout: .seconds(240), every: .milliseconds(500)) {
            try await harness.count("SELECT count(*) FROM recon_jobs WHERE state = 'completed'") == Int64(total)
        }
        #expect(try await harness.count("SELECT count(*) FROM recon_probe_runs") == Int64(total))
        #expect(try await harness.count("SELECT count(DISTINCT job_id) FROM recon_probe_runs") == Int64(total))
        // Each job ran once: one attempt, and the run recorded under the lease that completed it.
        #expect(try await harness.count("SELECT count(*) FROM recon_jobs WHERE attempt <> 1") == 0)
        #expect(
            try await harness.count(
                "SELECT count(*) FROM recon_probe_runs r JOIN recon_jobs j ON j.id = r.job_id WHERE j.lease_token <> r.lease_token"
            ) == 0)
        // Both workers and both coordinators took part.
        #expect(try await harness.count("SELECT count(DISTINCT worker) FROM recon_probe_runs") == 2)
        await harness.stopAll()
        for process in harness.workers + harness.coordinators {
            #expect(
                process.process.terminationStatus == 0, "\(process.name) exited \(process.process.terminationStatus)")
        }
    }

    @Test func aKilledWorkersJobIsLeasedAgainAfterExpiryAndCompletesOnce() async throws {
        let harness = try await DaemonHarness(label: "kill9")
        try await harness.startCoordinator(leaseMilliseconds: 1_000)
        let id = try await harness.enqueue([NewJob(kind: "probe", args: #"{"sleep_ms": 3000}"#)])[0]
        let doomed = try await harness.startWorker(slots: 1, id: "doomed")
        try await eventually("the job is running on the first worker") {
            try await harness.jobState(id).state == "running"
        }
        doomed.signal(SIGKILL)
        try await harness.startWorker(slots: 1, id: "survivor")
        try await eventually("the job completed", timeout: .seconds(30)) {
            try await harness.jobState(id).state == "completed"
        }
        let job = try await harness.jobState(id)
        #expect(job.attempt == 2)
        #expect(job.owner == "survivor")
        #expect(try await harness.count("SELECT count(*) FROM recon_probe_runs WHERE job_id = $1", [id]) == 1)
        let error = try await harness.pool.query("SELECT errors->0->>'error' FROM recon_jobs WHERE id = $1", [id])
            .first?
            .decode(String.self, at: 0)
        #expect(error?.contains("lease expired: worker doomed") == true)
        await harness.stopAll()
    }

    /// A worker frozen (SIGSTOP) after its writes and before its commit, past its lease: another
    /// worker leases the job again and its own write waits on the frozen one's uncommitted row.
    /// Resumed, the frozen worker reaches the fenced UPDATE with its old token: the fence rejects
    /// it (lease lost, counted in its log), its write is rolled back, and the fresh worker's
    /// commit goes through. The pause is a test-only hook, so the rejection is the fence's, not a
    /// heartbeat's cancellation before the commit.
    @Test func aStoppedWorkersLateCommitIsRejectedByTheFence() async throws {
        let harness = try await DaemonHarness(label: "sigstop")
        try await harness.startCoordinator(leaseMilliseconds: 1_000)
        let id = try await harness.enqueue([NewJob(kind: "probe", args: #"{"sleep_ms": 0}"#)])[0]
        let stale = try await harness.startWorker(
            slots: 1, id: "stale", extraEnvironment: ["RECON_FAULT_COMMIT_PAUSE_MS": "2500"])
        _ = try await stale.waitForLine(containing: "fault: job \(id)'s completion pauses")
        stale.signal(SIGSTOP)
        // Past the lease: the reaper returns the job and a fresh worker leases it; its insert of
        // the probe row waits on the frozen worker's uncommitted one.
        try await harness.startWorker(slots: 1, id: "fresh")
        try await eventually("the fresh worker holds the job", timeout: .seconds(30)) {
            let job = try await harness.jobState(id)
            return job.state == "running" && job.owner == "fresh"
        }
        #expect(try await harness.count("SELECT count(*) FROM recon_probe_runs WHERE job_id = $1", [id]) == 0)
        stale.signal(SIGCONT)
        try await eventually("the fresh worker completed the job", timeout: .seconds(30)) {
            let job = try await harness.jobState(id)
            return job.state == "completed" && job.owner == "fresh"
        }
        #expect(try await harness.count("SELECT count(*) FROM recon_probe_runs WHERE job_id = $1", [id]) == 1)
        #expect(try await harness.count("SELECT count(*) FROM recon_probe_runs WHERE worker = 'stale'") == 0)
        #expect(try await harness.jobState(id).attempt == 2)
        // The stale worker counted one commit the fence refused.
        try await eventually("the stale worker logs the lost lease") {
            stale.output.split(separator: "\n").filter {
                $0.contains("lease lost before completion") && $0.contains("job.outcome=lease_lost")
            }.count == 1
        }
        await harness.stopAll()
    }

    @Test func sigtermHandsBackUnfinishedJobsWithoutUsingAnAttempt() async throws {
        let harness = try await DaemonHarness(label: "sigterm")
        try await harness.startCoordinator()
        let ids = try await harness.enqueue([
            NewJob(kind: "probe", args: #"{"sleep_ms": 60000}"#), NewJob(kind: "probe", args: #"{"sleep_ms": 200}"#),
        ])
        let worker = try await harness.startWorker(slots: 2, id: "leaving", graceSeconds: 2)
        try await eventually("the short job completed and the long one runs") {
            let short = try await harness.jobState(ids[1]).state
            let long = try await harness.jobState(ids[0]).state
            return short == "completed" && long == "running"
        }
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit(timeout: .seconds(20)) == 0)
        let long = try await harness.jobState(ids[0])
        #expect(long.state == "available", "worker output: \(worker.output)")
        #expect(long.attempt == 0)
        #expect(
            try await harness.count("SELECT jsonb_array_length(errors) FROM recon_jobs WHERE id = $1", [ids[0]]) == 0)
        await harness.stopAll()
    }

    @Test func aJobPastItsTimeLimitIsStoppedAndRetried() async throws {
        let harness = try await DaemonHarness(label: "timeout")
        try await harness.startCoordinator()
        let id = try await harness.enqueue([
            NewJob(
                kind: "probe", args: #"{"sleep_ms": 600000}"#, retry: RetryPolicy(maxAttempts: 2, baseMilliseconds: 0))
        ])[0]
        try await harness.startWorker(slots: 1, id: "patient", jobTimeoutSeconds: 1)
        try await eventually("the job was stopped twice and is dead", timeout: .seconds(30)) {
            try await harness.jobState(id).state == "dead"
        }
        let error = try await harness.pool.query("SELECT errors->0->>'error' FROM recon_jobs WHERE id = $1", [id])
            .first?
            .decode(String.self, at: 0)
        #expect(error?.contains("ran longer than its limit of 1") == true, "\(error ?? "")")
        #expect(try await harness.count("SELECT count(*) FROM recon_probe_runs") == 0)
        await harness.stopAll()
    }
}
