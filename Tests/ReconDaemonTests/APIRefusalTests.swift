import Foundation
import ReconHTTP
import ReconJobs
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct APIRefusalTests {
    @Test func requestsWithoutTheRightTokenOrWithABadBodyChangeNothing() async throws {
        let harness = try await DaemonHarness(label: "auth")
        let base = try await harness.startCoordinator()
        let id = try await harness.enqueue([NewJob(kind: "probe")])[0]
        let client = HTTPClient()
        let lease = Data(
            #"{"worker":"intruder","queues":["default"],"count":5,"waitMilliseconds":0,"requestId":"r1"}"#.utf8)
        func post(_ path: String, _ body: Data, token: String?) async throws -> HTTPResult {
            var headers: HTTPHeaders = ["Content-Type": "application/json"]
            if let token { headers.append(name: "Authorization", value: "Bearer \(token)") }
            return try await client.send(HTTPRequest(method: .post, url: base + path, headers: headers, body: body))
        }
        let missing = try await post(LeaseAPI.leasePath, lease, token: nil)
        #expect(missing.status == 401)
        let wrong = try await post(LeaseAPI.leasePath, lease, token: "test-token-0123456789abcdeX")
        #expect(wrong.status == 401)
        let shortPrefix = try await post(LeaseAPI.leasePath, lease, token: "test-token")
        #expect(shortPrefix.status == 401)
        for body in [
            #"{"worker":"w","queues":"default""#, #"{"queues":["default"],"count":1,"waitMilliseconds":0}"#, "[]",
        ] {
            let malformed = try await post(LeaseAPI.leasePath, Data(body.utf8), token: harness.token)
            #expect(malformed.status == 400, "body \(body)")
            let answer = try JSONDecoder().decode(APIErrorBody.self, from: malformed.body)
            #expect(answer.code == "bad_request")
        }
        let badCount = try await post(
            LeaseAPI.leasePath, Data(#"{"worker":"w","queues":["default"],"count":0,"waitMilliseconds":0}"#.utf8),
            token: harness.token)
        #expect(badCount.status == 400)
        // A fail with a made-up token is a lost lease, not a change.
        let fake = try JSONEncoder().encode(
            FailRequest(worker: "w", lease: LeaseRef(id: id, token: 999_999), error: "x", retryable: false))
        let lost = try await post(LeaseAPI.failPath, fake, token: harness.token)
        #expect(lost.status == 409)
        #expect(try JSONDecoder().decode(APIErrorBody.self, from: lost.body).code == "lease_lost")
        // Nothing changed: the job is still waiting, never attempted, with no error recorded.
        let job = try await harness.jobState(id)
        #expect(job.state == "available" && job.attempt == 0 && job.owner == nil)
        #expect(try await harness.count("SELECT jsonb_array_length(errors) FROM recon_jobs WHERE id = $1", [id]) == 0)
        // The health check needs no token.
        let health = try await client.send(HTTPRequest(url: base + LeaseAPI.healthPath))
        #expect(health.status == 200)
        // And with the token the same lease call works.
        let granted = try await post(LeaseAPI.leasePath, lease, token: harness.token)
        #expect(granted.status == 200)
        #expect(try JSONDecoder().decode(LeaseResponse.self, from: granted.body).jobs.map(\.id) == [id])
        // The token appears nowhere in what the coordinator logged.
        #expect(!(harness.coordinators.first?.output.contains(harness.token) ?? true))
        await harness.stopAll()
    }

    @Test func aWorkerFailsOverToTheCoordinatorThatAnswers() async throws {
        let harness = try await DaemonHarness(label: "failover")
        let live = try await harness.startCoordinator()
        let id = try await harness.enqueue([NewJob(kind: "probe")])[0]
        // The first URL has nothing listening; the worker moves on to the live one.
        try await harness.startWorker(slots: 1, id: "failover", coordinators: ["http://127.0.0.1:9", live])
        try await eventually("the job completed through the live coordinator", timeout: .seconds(30)) {
            try await harness.jobState(id).state == "completed"
        }
        await harness.stopAll()
    }
}
