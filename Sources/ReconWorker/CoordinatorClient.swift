import Foundation
import ReconBlocking
import ReconHTTP
import ReconJobs
import Synchronization

/// Why a call to the coordinators did not give an answer.
enum CoordinatorCallError: Error, CustomStringConvertible {
    /// 409: the job's lease is no longer ours.
    case leaseLost
    /// 401: our token was refused. Not retried: it will not get better by itself.
    case unauthorized
    /// 400: the coordinator refused the request; a bug on one side.
    case refused(String)
    /// No coordinator answered (connection refused, timeout, 5xx) after trying each once.
    case unavailable(String)

    var description: String {
        switch self {
        case .leaseLost: return "the lease was lost"
        case .unauthorized: return "the coordinator refused the API token"
        case .refused(let message): return "the coordinator refused the request: \(message)"
        case .unavailable(let message): return "no coordinator answered: \(message)"
        }
    }
}

/// Which threads a call to the coordinators runs on. Each lane has threads of its own, apart from
/// the shared executor that bill downloads use, so a heartbeat never waits behind a download (or
/// behind a long-poll, or a burst of failure reports).
enum CallLane: Sendable {
    /// The lease long-poll: one call at a time.
    case lease
    /// Heartbeats: one call at a time, on time whatever else runs.
    case heartbeat
    /// Fail, snooze and release: one call per finished job, several at once.
    case report
}

/// Calls the coordinators' API over libcurl. Sticks to one coordinator while it answers and moves
/// to the next when it does not, so one coordinator's restart costs a worker one retry.
///
/// Connections are kept alive: each coordinator has its own set of easy handles, reused from call
/// to call, so a worker connects once rather than once per call.
final class CoordinatorClient: Sendable {
    private let baseURLs: [String]
    private let token: String
    /// One client per coordinator, each with the handles (and connections) kept for it.
    private let clients: [HTTPClient]
    private let leaseThreads = BlockingExecutor(threads: 1, name: "recon.worker.lease")
    private let heartbeatThreads = BlockingExecutor(threads: 1, name: "recon.worker.heartbeat")
    private let reportThreads = BlockingExecutor(threads: 4, name: "recon.worker.report")
    private let current = Atomic<Int>(0)

    init(baseURLs: [String], token: String) {
        self.baseURLs = baseURLs.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.token = token
        var options = HTTPOptions()
        options.connectTimeout = .seconds(2)
        options.maxBodySize = 64 << 20
        options.userAgent = "recon-worker"
        clients = self.baseURLs.map { _ in HTTPClient(options: options, keepAlive: KeptAliveHandles(maxIdle: 6)) }
    }

    deinit {
        leaseThreads.shutdown()
        heartbeatThreads.shutdown()
        reportThreads.shutdown()
    }

    private func threads(_ lane: CallLane) -> BlockingExecutor {
        switch lane {
        case .lease: return leaseThreads
        case .heartbeat: return heartbeatThreads
        case .report: return reportThreads
        }
    }

    func call<Body: Encodable, Answer: Decodable>(
        _ path: String, _ body: Body, as: Answer.Type, lane: CallLane, timeout: Duration = .seconds(15)
    ) async throws -> Answer {
        let payload = try JSONEncoder().encode(body)
        let executor = threads(lane)
        var failures: [String] = []
        for _ in 0..<baseURLs.count {
            let raw = current.load(ordering: .relaxed)
            let index = raw % baseURLs.count
            let base = baseURLs[index]
            let request = HTTPRequest(
                method: .post, url: base + path,
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: payload)
            let http = clients[index]
            var options = http.options
            options.totalTimeout = timeout
            let result = try await http.on(executor).send(request, options: options)
            try Task.checkCancellation()
            switch (result.outcome, result.status) {
            case (.completed, 200?):
                do {
                    return try JSONDecoder().decode(Answer.self, from: result.body)
                } catch {
                    failures.append("\(result.redactedURL): unreadable answer")
                }
            case (.completed, 409?): throw CoordinatorCallError.leaseLost
            case (.completed, 401?): throw CoordinatorCallError.unauthorized
            case (.completed, let status?) where (400..<500).contains(status) && status != 429:
                let message =
                    (try? JSONDecoder().decode(APIErrorBody.self, from: result.body).error) ?? "HTTP \(status)"
                throw CoordinatorCallError.refused(message)
            case (.completed, let status):
                failures.append("\(result.redactedURL): HTTP \(status.map(String.init) ?? "?")")
            default:
                failures.append("\(result.redactedURL): \(result.outcome) \(result.curlMessage)")
            }
            // Try the next coordinator; others that share this one move on too.
            _ = current.compareExchange(expected: raw, desired: (index + 1) % baseURLs.count, ordering: .relaxed)
        }
        throw CoordinatorCallError.unavailable(failures.joined(separator: "; "))
    }
}
