import Foundation
import ReconHTTP
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Testing

/// Issue 14's bad input at the daemons: job files a coordinator or worker must refuse to start
/// with (naming the file and line), and API calls the coordinator must refuse without changing
/// anything, serving on afterwards.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct BadInputTests {
    /// A job folder holding `text` as `name`.
    static func jobFolder(_ text: String, name: String = "bad.toml") throws -> String {
        let folder = NSTemporaryDirectory() + "recon-badjobs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        return folder
    }

    static let schedule = """
        [[schedule]]
        name = "nightly"
        cron = "0 2 * * *"
        time_zone = "Asia/Shanghai"
        kind = "probe"
        """

    static func channel(key: String) -> String {
        """
        [[channel]]
        name = "bank-a"
        adapter = "bank_csv"
        url_template = "http://127.0.0.1:9/bills/{date:%Y%m%d}.csv"
        auth_header = { name = "X-Api-Key", secret = \(key) }
        """
    }

    /// `recon coordinator` with a bad schedule: exits non-zero before it listens, naming the file,
    /// the line and what is wrong.
    @Test(
        arguments: [
            ("cron = \"0 2 * * *\"", "cron = \"0 25 * * *\"", 3, "field 2 (hour)"),
            ("time_zone = \"Asia/Shanghai\"", "time_zone = \"Asia/Shangai\"", 4, "unknown time zone"),
            ("kind = \"probe\"", "kind = \"probe\"\nqueues = \"x\"", 6, "unknown key `schedule[0].queues`"),
        ])
    func aCoordinatorWithABadScheduleDoesNotStart(from: String, to: String, line: Int, words: String) async throws {
        let folder = try Self.jobFolder(Self.schedule.replacingOccurrences(of: from, with: to))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let harness = try await DaemonHarness(label: "badsched")
        let process = try DaemonProcess(
            name: "bad-coordinator", arguments: ["coordinator", "--listen", "127.0.0.1:0", "--jobs", folder],
            environment: harness.environment)
        #expect(try await process.waitForExit() != 0)
        #expect(process.output.contains("\(folder)/bad.toml:\(line):"), "\(process.output)")
        #expect(process.output.contains(words), "\(process.output)")
        #expect(!process.output.contains("listening on"), "\(process.output)")
    }

    /// `recon worker` with a bad `[[channel]]` or a secret it cannot read: exits non-zero before it
    /// leases anything, naming the file, the line and the key (never a secret's value).
    @Test(
        arguments: [
            (
                channel(key: "{ env = \"RECON_TEST_BAD_INPUT_KEY\" }") + "\nshard_count = 2", 6,
                "unknown key `channel[0].shard_count`"
            ),
            (
                channel(key: "{ env = \"RECON_TEST_BAD_INPUT_KEY\" }") + "\ntime_zone = \"Mars/Olympus\"", 6,
                "unknown time zone Mars/Olympus"
            ),
            (
                channel(key: "{ env = \"RECON_TEST_BAD_INPUT_UNSET\" }"), 5,
                "environment variable RECON_TEST_BAD_INPUT_UNSET is not set"
            ),
            (
                channel(key: "{ file = \"/nonexistent/recon-bank.key\" }"), 5,
                "cannot read the secret file /nonexistent/recon-bank.key"
            ),
            (channel(key: "\"inline-secret-value\""), 5, "holds a secret inline"),
        ])
    func aWorkerWithABadChannelOrAMissingSecretDoesNotStart(text: String, line: Int, words: String) async throws {
        let folder = try Self.jobFolder(text)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let harness = try await DaemonHarness(label: "badworker")
        let process = try DaemonProcess(
            name: "bad-worker",
            arguments: [
                "worker", "--coordinator", "http://127.0.0.1:9", "--slots", "1", "--worker-id", "bad", "--jobs", folder,
            ], environment: harness.environment.merging(["RECON_TEST_BAD_INPUT_KEY": "k-0123456789"]) { $1 })
        #expect(try await process.waitForExit() != 0)
        #expect(process.output.contains("\(folder)/bad.toml:\(line):"), "\(process.output)")
        #expect(process.output.contains(words), "\(process.output)")
        #expect(!process.output.contains("started with"), "\(process.output)")
        #expect(!process.output.contains("inline-secret-value"), "\(process.output)")
        // The same folder with the secret set (and nothing else wrong) starts: the check is not
        // refusing every file.
        if line == 5, words.contains("RECON_TEST_BAD_INPUT_UNSET") {
            let good = try DaemonProcess(
                name: "good-worker",
                arguments: [
                    "worker", "--coordinator", "http://127.0.0.1:9", "--slots", "1", "--worker-id", "good", "--jobs",
                    folder,
                ], environment: harness.environment.merging(["RECON_TEST_BAD_INPUT_UNSET": "k-0123456789"]) { $1 })
            _ = try await good.waitForLine(containing: "started with")
            good.signal(SIGTERM)
            _ = try await good.waitForExit()
        }
    }

    /// Calls carrying another job's fencing token, an oversized body and bodies that are not the
    /// JSON asked for: each refused with a 4xx, none changes a job, and the coordinator serves on.
    @Test func theLeaseAPIRefusesAnotherJobsTokenAndBadBodiesAndServesOn() async throws {
        let harness = try await DaemonHarness(label: "badapi")
        let base = try await harness.startCoordinator()
        let ids = try await harness.enqueue([NewJob(kind: "probe"), NewJob(kind: "probe")])
        let client = HTTPClient()
        func post(_ path: String, _ body: Data) async throws -> HTTPResult {
            try await client.send(
                HTTPRequest(
                    method: .post, url: base + path,
                    headers: ["Content-Type": "application/json", "Authorization": "Bearer \(harness.token)"],
                    body: body))
        }
        func post<Body: Encodable>(_ path: String, _ body: Body) async throws -> HTTPResult {
            try await post(path, try JSONEncoder().encode(body))
        }
        let leased = try JSONDecoder().decode(
            LeaseResponse.self,
            from: try await post(
                LeaseAPI.leasePath, LeaseRequest(worker: "w1", queues: ["default"], count: 2, waitMilliseconds: 0)
            ).body
        ).jobs.sorted { $0.id < $1.id }
        try #require(leased.map(\.id) == ids.sorted())
        let (first, second) = (leased[0], leased[1])
        #expect(first.token != second.token)

        /// Everything a refused call could change, for both jobs.
        func snapshot() async throws -> [String] {
            try await harness.pool.query(
                """
                SELECT id::text || ' ' || state || ' ' || attempt || ' ' || coalesce(lease_owner, '-') || ' '
                       || coalesce(lease_token::text, '-') || ' ' || coalesce(lease_expires_at::text, '-') || ' '
                       || run_at::text || ' ' || jsonb_array_length(errors)
                FROM recon_jobs ORDER BY id
                """
            ).rows.map { try $0.decode(String.self, at: 0) }
        }
        let before = try await snapshot()

        // The first job's id with the second job's token, on every call that carries a lease.
        let crossed = LeaseRef(id: first.id, token: second.token)
        let heartbeat = try await post(LeaseAPI.heartbeatPath, HeartbeatRequest(worker: "w1", leases: [crossed]))
        #expect(heartbeat.status == 200)
        #expect(try JSONDecoder().decode(HeartbeatResponse.self, from: heartbeat.body).lost == [first.id])
        let fail = try await post(
            LeaseAPI.failPath, FailRequest(worker: "w1", lease: crossed, error: "x", retryable: false))
        #expect(fail.status == 409)
        #expect(try JSONDecoder().decode(APIErrorBody.self, from: fail.body).code == "lease_lost")
        let snooze = try await post(
            LeaseAPI.snoozePath, SnoozeRequest(worker: "w1", lease: crossed, delayMilliseconds: 60_000))
        #expect(snooze.status == 409)
        let release = try await post(LeaseAPI.releasePath, ReleaseRequest(worker: "w1", leases: [crossed]))
        #expect(release.status == 200)
        let released = try JSONDecoder().decode(ReleaseResponse.self, from: release.body)
        #expect(released.released.isEmpty && released.lost == [first.id])

        // A body over the 1 MiB limit, and bodies that are not the JSON each route wants.
        let huge =
            Data(#"{"worker":"w1","leases":[],"pad":""#.utf8) + Data(repeating: 0x61, count: 2 << 20)
            + Data(#""}"#.utf8)
        let oversized = try await post(LeaseAPI.heartbeatPath, huge)
        #expect(oversized.status == 413, "\(oversized.status)")
        for path in [LeaseAPI.heartbeatPath, LeaseAPI.failPath, LeaseAPI.snoozePath, LeaseAPI.releasePath] {
            for body in ["{", "not json", #"{"worker":"w1","lease":{"id":"one","token":2}}"#, "\u{0}"] {
                let refused = try await post(path, Data(body.utf8))
                #expect(refused.status == 400, "\(path) \(body): \(refused.status)")
                #expect(
                    (try? JSONDecoder().decode(APIErrorBody.self, from: refused.body).code) == "bad_request",
                    "\(path) \(body)")
            }
        }
        // Nothing changed for either job: same state, owner, token, expiry, run time, errors.
        #expect(try await snapshot() == before)

        // The coordinator serves on: health, and the real tokens still heartbeat and fail.
        #expect(try await client.send(HTTPRequest(url: base + LeaseAPI.healthPath)).status == 200)
        let alive = try await post(
            LeaseAPI.heartbeatPath,
            HeartbeatRequest(
                worker: "w1",
                leases: [LeaseRef(id: first.id, token: first.token), LeaseRef(id: second.id, token: second.token)]))
        #expect(try JSONDecoder().decode(HeartbeatResponse.self, from: alive.body).lost.isEmpty)
        let failed = try await post(
            LeaseAPI.failPath,
            FailRequest(worker: "w1", lease: LeaseRef(id: first.id, token: first.token), error: "x", retryable: false))
        #expect(failed.status == 200)
        #expect(try await harness.jobState(first.id).state == "dead")
        #expect(try await harness.jobState(second.id).state == "running")
        #expect(harness.coordinators.first?.process.isRunning == true)
        await harness.stopAll()
    }
}
