import Foundation
import ReconJobs
import ReconTestSupport
import Testing

/// The operator's commands, run as the `recon` binary against a real database.
@Suite(.tags(.integration), .skippedWhenFast) struct CommandLineTests {
    func recon(_ arguments: [String], database: String) throws -> (status: Int32, output: String) {
        try runRecon(arguments, environment: ["RECON_DATABASE_URL": database])
    }

    @Test func enqueueStatusShowCancelAndRetry() async throws {
        let database = try await TestPostgres.migratedDatabase("cli")
        let first = try recon(
            [
                "enqueue", "fetch_bill", "--args", #"{"channel":"alipay","date":"2026-11-23"}"#, "--unique-key",
                "fetch_bill:alipay:2026-11-23", "--json",
            ], database: database)
        #expect(first.status == 0, "\(first.output)")
        let enqueued = try JSONDecoder().decode(EnqueueResult.self, from: Data(first.output.utf8))
        #expect(enqueued.inserted)
        let again = try recon(
            ["enqueue", "fetch_bill", "--unique-key", "fetch_bill:alipay:2026-11-23"], database: database)
        #expect(again.output.contains("job \(enqueued.id) already exists"))
        let dependant = try recon(
            ["enqueue", "reconcile", "--depends-on", String(enqueued.id), "--backoff-base", "30s", "--json"],
            database: database)
        let waiting = try JSONDecoder().decode(EnqueueResult.self, from: Data(dependant.output.utf8))

        let status = try recon(["status", "--json"], database: database)
        #expect(status.status == 0)
        #expect(status.output.contains("\"state\" : \"available\""))
        #expect(status.output.contains("\"state\" : \"pending\""))

        let cancelled = try recon(["cancel", String(enqueued.id)], database: database)
        #expect(cancelled.output.contains("was available; it is cancelled"))
        let shown = try recon(["jobs", "show", String(waiting.id)], database: database)
        #expect(shown.output.contains("pending"))
        #expect(shown.output.contains("held: job \(enqueued.id) (fetch_bill) is cancelled"), "\(shown.output)")
        let listed = try recon(["jobs", "list", "--state", "cancelled", "--json"], database: database)
        let records = try JSONDecoder().decode([JobRecord].self, from: Data(listed.output.utf8))
        #expect(records.map(\.id) == [enqueued.id])

        let retried = try recon(["retry", String(enqueued.id)], database: database)
        #expect(retried.output.contains("was cancelled; it is available again"))
        let cancelTwice = try recon(["cancel", String(waiting.id)], database: database)
        #expect(cancelTwice.status == 0)
        let finished = try recon(["cancel", String(waiting.id)], database: database)
        #expect(finished.status != 0)
        #expect(finished.output.contains("already cancelled"))
    }

    @Test func badInputIsRefusedWithWhatWasWrong() async throws {
        let database = try await TestPostgres.migratedDatabase("clibad")
        let badJSON = try recon(["enqueue", "x", "--args", "[1,2]"], database: database)
        #expect(badJSON.status != 0)
        #expect(badJSON.output.contains("--args must be a JSON object"))
        let badTime = try recon(["enqueue", "x", "--run-at", "tomorrow"], database: database)
        #expect(badTime.output.contains("--run-at must be like"))
        let badState = try recon(["jobs", "list", "--state", "done"], database: database)
        #expect(badState.output.contains("--state must be one of"))
        let missing = try recon(["jobs", "show", "424242"], database: database)
        #expect(missing.status != 0)
        #expect(missing.output.contains("there is no job 424242"))
        let missingDependency = try recon(["enqueue", "x", "--depends-on", "424242"], database: database)
        #expect(missingDependency.output.contains("job 424242, which the new x job depends on, does not exist"))
    }
}
