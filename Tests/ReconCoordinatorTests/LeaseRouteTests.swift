import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ReconCore
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Testing

@testable import ReconCoordinator

/// The lease API in-process, through Hummingbird's router test client, against a throwaway
/// cluster: what each route answers, what it changes, and what the coordinator logs.
@Suite(.tags(.integration), .skippedWhenFast) struct LeaseRouteTests {
    static let token = "route-test-token-0123456789"

    static var fields: JobLogFields {
        var fields = JobLogFields()
        fields.register(kind: "fetch_bill", argument: "channel", as: "bill.channel")
        fields.register(kind: "fetch_bill", argument: "date", as: "bill.date")
        return fields
    }

    /// The coordinator's routes on a fresh database; its log goes to `log`.
    struct Rig: Sendable {
        let client: any TestClientProtocol
        let pool: PGPool
        let log: LogRecorder
        let database: String

        func post<Body: Encodable>(_ path: String, _ body: Body, token: String? = LeaseRouteTests.token) async throws
            -> TestResponse
        {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let token { headers[.authorization] = "Bearer \(token)" }
            return try await client.execute(
                uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }

        func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
            try JSONDecoder().decode(type, from: Data(response.body.readableBytesView))
        }

        func lease(count: Int = 10) async throws -> [LeasedJob] {
            let response = try await post(
                LeaseAPI.leasePath, LeaseRequest(worker: "w1", queues: ["default"], count: count, waitMilliseconds: 0))
            #expect(response.status == .ok)
            return try decode(LeaseResponse.self, response).jobs
        }

        func enqueue(_ jobs: [NewJob]) async throws -> [Int64] {
            try await pool.transaction { try JobLedger.enqueue(jobs, on: $0) }.map(\.id)
        }

        func state(_ id: Int64) async throws -> (state: String, attempt: Int) {
            let row = try #require(
                try await pool.query("SELECT state, attempt FROM recon_jobs WHERE id = $1", [id]).first)
            return (try row.decode(String.self, at: 0), try row.decode(Int.self, at: 1))
        }
    }

    func withRoutes(
        database given: String? = nil, leaseMilliseconds: Int64 = 30_000, _ test: @Sendable (Rig) async throws -> Void
    ) async throws {
        let database: String
        if let given { database = given } else { database = try await TestPostgres.migratedDatabase("routes") }
        let pool = PGPool(connectionString: database, maxConnections: 4)
        defer { pool.close() }
        let log = LogRecorder()
        let configuration = CoordinatorConfiguration(
            databaseURL: database, apiToken: Self.token, leaseMilliseconds: leaseMilliseconds, logFields: Self.fields)
        let router = Coordinator.router(
            configuration, pool: pool, wakeups: JobWakeups(),
            outcomes: JobOutcomeLog(logger: log.logger(), fields: Self.fields))
        try await Application(router: router).test(.router) { client in
            try await test(Rig(client: client, pool: pool, log: log, database: database))
        }
    }

    @Test func healthIsOpenAndEveryOtherRouteWantsTheToken() async throws {
        try await withRoutes { rig in
            let health = try await rig.client.execute(uri: LeaseAPI.healthPath, method: .get)
            #expect(health.status == .ok)
            let request = LeaseRequest(worker: "w1", queues: ["default"], count: 1, waitMilliseconds: 0)
            for token in [nil, "route-test-token-0123456780", "short"] {
                let refused = try await rig.post(LeaseAPI.leasePath, request, token: token)
                #expect(refused.status == .unauthorized)
                #expect(try rig.decode(APIErrorBody.self, refused).code == "unauthorized")
            }
        }
    }

    @Test func aBadBodyIsRefusedNamingTheField() async throws {
        try await withRoutes { rig in
            let missing = try await rig.post(LeaseAPI.leasePath, ["worker": "w1"])
            #expect(missing.status == .badRequest)
            let body = try rig.decode(APIErrorBody.self, missing)
            #expect(body.code == "bad_request" && body.error.contains("queues"), "\(body.error)")
            let zero = try await rig.post(
                LeaseAPI.leasePath, LeaseRequest(worker: "w1", queues: ["default"], count: 0, waitMilliseconds: 0))
            #expect(try rig.decode(APIErrorBody.self, zero).error.contains("count must be 1 to"))
        }
    }

    /// A failure the worker reports is retried while attempts are left and dead when it says so;
    /// each decision is logged once with the job's keys and the bill's channel and date; a stale
    /// token is refused with 409 and changes nothing.
    @Test func failuresAreDecidedAndLoggedOnceWithTheBillsKeys() async throws {
        try await withRoutes { rig in
            let id = try await rig.enqueue([
                NewJob(
                    kind: "fetch_bill", args: #"{"channel": "bank-a", "date": "2026-11-23"}"#,
                    retry: RetryPolicy(maxAttempts: 5, baseMilliseconds: 0, capMilliseconds: 0))
            ])[0]
            let first = try #require(try await rig.lease().first)
            let beat = try await rig.post(
                LeaseAPI.heartbeatPath,
                HeartbeatRequest(worker: "w1", leases: [LeaseRef(id: id, token: first.token)]))
            #expect(try rig.decode(HeartbeatResponse.self, beat).lost.isEmpty)

            let retried = try await rig.post(
                LeaseAPI.failPath,
                FailRequest(
                    worker: "w1", lease: LeaseRef(id: id, token: first.token), error: "HTTP 503", retryable: true))
            let retriedAnswer = try rig.decode(FailResponse.self, retried)
            #expect(retriedAnswer.state == "retryable" && retriedAnswer.runAt != nil)

            let second = try #require(try await rig.lease().first)
            #expect(second.attempt == 2)
            let dead = try await rig.post(
                LeaseAPI.failPath,
                FailRequest(
                    worker: "w1", lease: LeaseRef(id: id, token: second.token), error: "totals disagree",
                    retryable: false))
            #expect(try rig.decode(FailResponse.self, dead) == FailResponse(state: "dead", runAt: nil))
            #expect(try await rig.state(id) == ("dead", 2))

            let stale = try await rig.post(
                LeaseAPI.failPath,
                FailRequest(worker: "w1", lease: LeaseRef(id: id, token: first.token), error: "late", retryable: true))
            #expect(stale.status == .conflict)
            #expect(try rig.decode(APIErrorBody.self, stale).code == "lease_lost")

            let lines = rig.log.lines(where: "job.id", is: "\(id)")
            #expect(lines.map { $0.metadata["job.outcome"] } == ["retried", "dead"], "\(lines)")
            #expect(lines.map { $0.metadata["job.attempt"] } == ["1", "2"])
            #expect(lines.map(\.level) == [.info, .error])
            for line in lines {
                #expect(line.metadata["job.kind"] == "fetch_bill")
                #expect(line.metadata["bill.channel"] == "bank-a" && line.metadata["bill.date"] == "2026-11-23")
                #expect(line.metadata["worker.id"] == "w1")
            }
            #expect(lines.last?.metadata["error"] == "totals disagree")
        }
    }

    @Test func snoozeAndReleaseUseNoAttempt() async throws {
        try await withRoutes { rig in
            let ids = try await rig.enqueue([NewJob(kind: "a"), NewJob(kind: "b")])
            let leased = try await rig.lease()
            #expect(Set(leased.map(\.id)) == Set(ids))
            let byID = Dictionary(uniqueKeysWithValues: leased.map { ($0.id, $0) })
            let snoozedJob = try #require(byID[ids[0]])
            let snoozed = try await rig.post(
                LeaseAPI.snoozePath,
                SnoozeRequest(
                    worker: "w1", lease: LeaseRef(id: snoozedJob.id, token: snoozedJob.token),
                    delayMilliseconds: 3_600_000))
            #expect(snoozed.status == .ok)
            #expect(try await rig.state(ids[0]) == ("scheduled", 0))
            let releasedJob = try #require(byID[ids[1]])
            let stale = LeaseRef(id: snoozedJob.id, token: snoozedJob.token)
            let released = try await rig.post(
                LeaseAPI.releasePath,
                ReleaseRequest(worker: "w1", leases: [LeaseRef(id: releasedJob.id, token: releasedJob.token), stale]))
            #expect(
                try rig.decode(ReleaseResponse.self, released) == ReleaseResponse(released: [ids[1]], lost: [ids[0]]))
            #expect(try await rig.state(ids[1]) == ("available", 0))
        }
    }
}

/// Idempotent lease calls through the routes of two coordinators on one database.
@Suite(.tags(.integration), .skippedWhenFast) struct LeaseRequestRouteTests {
    let routes = LeaseRouteTests()

    func lease(_ rig: LeaseRouteTests.Rig, id: String, count: Int = 2) async throws -> [LeasedJob] {
        let response = try await rig.post(
            LeaseAPI.leasePath,
            LeaseRequest(worker: "w1", queues: ["default"], count: count, waitMilliseconds: 0, requestId: id))
        #expect(response.status == .ok)
        return try rig.decode(LeaseResponse.self, response).jobs
    }

    /// The first coordinator commits a lease and its answer is dropped; the worker asks the second
    /// with the same id and gets the same jobs, same tokens, same attempt; a new id gets others.
    @Test func aRepeatedRequestGetsTheSameJobsFromAnyCoordinator() async throws {
        try await routes.withRoutes { first in
            let ids = try await first.enqueue((0..<4).map { _ in NewJob(kind: "noop") })
            let dropped = try await lease(first, id: "call-1")
            #expect(dropped.map(\.id) == Array(ids[0..<2]))
            try await routes.withRoutes(database: first.database) { second in
                let again = try await lease(second, id: "call-1")
                #expect(again.map(\.id) == dropped.map(\.id))
                #expect(again.map(\.token) == dropped.map(\.token))
                #expect(again.allSatisfy { $0.attempt == 1 })
                let acknowledged = try await second.post(
                    LeaseAPI.heartbeatPath, HeartbeatRequest(worker: "w1", leases: [], acknowledged: ["call-1"]))
                #expect(acknowledged.status == .ok)
                let next = try await lease(second, id: "call-2")
                #expect(next.map(\.id) == Array(ids[2..<4]))
            }
            let acknowledged = try await first.pool.query(
                "SELECT request_id FROM recon_lease_requests WHERE acknowledged_at IS NOT NULL")
            #expect(try acknowledged.rows.map { try $0.decode(String.self, at: 0) } == ["call-1"])
            let bad = try await first.post(
                LeaseAPI.leasePath,
                LeaseRequest(worker: "w1", queues: ["default"], count: 1, waitMilliseconds: 0, requestId: ""))
            #expect(bad.status == .badRequest)
        }
    }

    /// An answer dropped and never asked for again: at expiry its jobs go back without using an
    /// attempt, logged once as `unreceived`; leased again they are attempt 1.
    @Test func anAnswerThatNeverArrivedCostsNoAttempt() async throws {
        try await routes.withRoutes(leaseMilliseconds: 50) { rig in
            let ids = try await rig.enqueue([NewJob(kind: "noop"), NewJob(kind: "noop")])
            let dropped = try await lease(rig, id: "lost-call")
            #expect(dropped.count == 2)
            try await Task.sleep(for: .milliseconds(120))
            let maintenance = MaintenanceService(
                pool: rig.pool, wakeups: JobWakeups(), listenerConnectionString: rig.database,
                reapInterval: .seconds(1), retentionMilliseconds: 86_400_000, logger: rig.log.logger(),
                outcomes: JobOutcomeLog(logger: rig.log.logger(), fields: LeaseRouteTests.fields))
            try await maintenance.reap()
            for id in ids {
                #expect(try await rig.state(id) == ("available", 0))
                let lines = rig.log.lines(where: "job.id", is: "\(id)")
                #expect(lines.map { $0.metadata["job.outcome"] } == ["unreceived"], "\(lines)")
            }
            let again = try await lease(rig, id: "next-call")
            #expect(Set(again.map(\.id)) == Set(ids) && again.allSatisfy { $0.attempt == 1 })
        }
    }
}

/// The reaper, run once by hand: every expired lease is returned or dead, one log line each.
@Suite(.tags(.integration), .skippedWhenFast) struct ReaperLogTests {
    @Test func eachExpiredLeaseIsLoggedOnceWithWhatBecameOfIt() async throws {
        let database = try await TestPostgres.migratedDatabase("reaper")
        let pool = PGPool(connectionString: database, maxConnections: 2)
        defer { pool.close() }
        let ids = try await pool.transaction { connection in
            try JobLedger.enqueue(
                [
                    NewJob(
                        kind: "fetch_bill", args: #"{"channel": "wechat-main", "date": "2026-11-22"}"#,
                        retry: RetryPolicy(maxAttempts: 1)),
                    NewJob(kind: "probe", retry: RetryPolicy(maxAttempts: 3)),
                ], on: connection)
        }.map(\.id)
        let leased = try await pool.transaction { connection in
            try JobLedger.claim(worker: "gone", queues: ["default"], limit: 10, leaseMilliseconds: 1, on: connection)
        }
        #expect(leased.count == 2)
        try await Task.sleep(for: .milliseconds(20))
        let log = LogRecorder()
        let maintenance = MaintenanceService(
            pool: pool, wakeups: JobWakeups(), listenerConnectionString: database, reapInterval: .seconds(1),
            retentionMilliseconds: 86_400_000, logger: log.logger(),
            outcomes: JobOutcomeLog(logger: log.logger(), fields: LeaseRouteTests.fields))
        try await maintenance.reap()
        try await maintenance.reap()

        let dead = log.lines(where: "job.id", is: "\(ids[0])")
        #expect(dead.count == 1, "\(log.lines)")
        #expect(dead.first?.metadata["job.outcome"] == "dead" && dead.first?.level == .error)
        #expect(
            dead.first?.metadata["bill.channel"] == "wechat-main" && dead.first?.metadata["bill.date"] == "2026-11-22")
        #expect(dead.first?.metadata["worker.id"] == "gone")
        #expect(dead.first?.metadata["error"]?.contains("lease expired: worker gone") == true)
        let retried = log.lines(where: "job.id", is: "\(ids[1])")
        #expect(retried.count == 1)
        #expect(retried.first?.metadata["job.outcome"] == "retried" && retried.first?.level == .warning)
        #expect(retried.first?.metadata["bill.channel"] == nil)
    }
}
