import Foundation
import ReconHTTP
import ReconJobs
import ReconTestSupport
import Testing

/// The sd_notify protocol as systemd sees it (issue 13), over a real datagram socket: READY=1 only
/// once the port answers, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM, then exit 0.
/// The daemons get their token and database URL as systemd credentials, as the units give them.
@Suite(.tags(.integration), .skippedWhenFast) struct SystemdNotifyTests {
    /// WATCHDOG_USEC of 2 s: pings every second.
    static let watchdogMicroseconds = 2_000_000

    @Test func coordinatorAndWorkerSpeakTheNotifyProtocol() async throws {
        let harness = try await DaemonHarness(label: "notify")
        let credentials = NSTemporaryDirectory() + "recon-credentials-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: credentials) }
        try (harness.token + "\n").write(toFile: credentials + "/api-token", atomically: true, encoding: .utf8)
        try harness.databaseURL.write(toFile: credentials + "/database-url", atomically: true, encoding: .utf8)

        let coordinatorSocket = try NotifySocket()
        let environment = [
            "CREDENTIALS_DIRECTORY": credentials, "WATCHDOG_USEC": String(Self.watchdogMicroseconds),
        ]
        let coordinator = try DaemonProcess(
            name: "notify-coordinator", arguments: ["coordinator", "--listen", "127.0.0.1:0"],
            environment: environment.merging(["NOTIFY_SOCKET": coordinatorSocket.path]) { $1 })
        let untilReady = try await coordinatorSocket.receive(until: "READY=1", timeout: .seconds(60))
        // The moment READY=1 is read, the port it names must accept a connection and answer.
        let ready = try #require(untilReady.last).text
        let port = try #require(
            ready.split(separator: "\n").first { $0.hasPrefix("STATUS=listening on ") }?.split(separator: ":").last
                .flatMap { Int($0) }, "\(ready)")
        #expect(portAccepts(port), "READY=1 was sent before 127.0.0.1:\(port) accepted connections")
        let health = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)" + LeaseAPI.healthPath))
        #expect(health.status == 200)
        try await expectWatchdogPings(coordinatorSocket, name: "coordinator")

        let workerSocket = try NotifySocket()
        let worker = try DaemonProcess(
            name: "notify-worker",
            arguments: ["worker", "--coordinator", "http://127.0.0.1:\(port)", "--slots", "1", "--worker-id", "w1"],
            environment: environment.merging(["NOTIFY_SOCKET": workerSocket.path]) { $1 })
        _ = try await workerSocket.receive(until: "READY=1", timeout: .seconds(60))
        try await expectWatchdogPings(workerSocket, name: "worker")

        for (process, socket) in [(worker, workerSocket), (coordinator, coordinatorSocket)] {
            process.signal(SIGTERM)
            _ = try await socket.receive(until: "STOPPING=1", timeout: .seconds(30))
            #expect(try await process.waitForExit(timeout: .seconds(60)) == 0, "\(process.output.suffix(2000))")
        }
        // Neither secret appears in what the daemons printed.
        for process in [coordinator, worker] {
            #expect(!process.output.contains(harness.token))
        }
    }

    /// A ping each half WATCHDOG_USEC: counted over a window of about five, not timed one by one,
    /// because datagrams queue in the socket and a busy test process reads them in bursts. What
    /// was queued before the window is dropped, what is queued at its end is counted, and the
    /// window is measured as it really was (a starved test overshoots its end).
    func expectWatchdogPings(_ socket: NotifySocket, name: String) async throws {
        let half = Duration.microseconds(Self.watchdogMicroseconds / 2)
        _ = socket.pending()
        let start = ContinuousClock.now
        try await Task.sleep(for: half * 5)
        let pings = socket.pending().filter { $0 == "WATCHDOG=1" }.count
        let window = ContinuousClock.now - start
        let expected = Int((window / half).rounded())
        #expect(
            (expected - 2...expected + 2).contains(pings),
            "\(name): \(pings) pings in \(window), about \(expected) expected")
    }
}
