import Foundation
import ReconJobs
import ReconPostgres

/// `probe`: a job for smoke checks, tests and benchmarks. Arguments (all optional):
/// `sleep_ms` (work for this long, noticing cancellation), `fail_attempts` (fail the first N
/// attempts, retryably). It completes by writing one row to `recon_probe_runs` in its completion transaction, whose primary
/// key would refuse a second completion of the same job.
struct ProbeHandler: JobHandler {
    struct Arguments: Decodable {
        var sleep_ms: Int?
        var fail_attempts: Int?
    }

    func run(_ context: JobContext) async throws -> JobResult {
        let arguments: Arguments
        do {
            arguments = try JSONDecoder().decode(Arguments.self, from: Data(context.job.args.utf8))
        } catch {
            throw JobFailure("probe arguments are not {sleep_ms, fail_attempts}: \(error)", retryable: false)
        }
        if let failures = arguments.fail_attempts, context.job.attempt <= failures {
            throw JobFailure("probe fails attempt \(context.job.attempt) of the first \(failures) on purpose")
        }
        if let sleep = arguments.sleep_ms, sleep > 0 {
            try await Task.sleep(for: .milliseconds(sleep))
        }
        let id = context.job.id
        let token = context.job.token
        let worker = context.worker
        return .complete { connection in
            try connection.query(
                "INSERT INTO recon_probe_runs (job_id, worker, lease_token) VALUES ($1, $2, $3)", [id, worker, token],
                name: "probe: record run")
        }
    }
}
