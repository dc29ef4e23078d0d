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

    /// Over five half-intervals, a ping each half WATCHDOG_USEC: counted, not timed one by one,
    /// because datagrams queue in the socket and a busy test process reads several at once, so
    /// the moments it reads them say nothing of when they were sent.
    func expectWatchdogPings(_ socket: NotifySocket, name: String) async throws {
        let half = Duration.microseconds(Self.watchdogMicroseconds / 2)
        var pings = 0
        let end = ContinuousClock.now + half * 5
        while ContinuousClock.now < end {
            let message = try await socket.receive(timeout: half * 2)
            if message.text == "WATCHDOG=1" { pings += 1 }
        }
        // 5 expected; a ping more or less at either end of the window, one more if the window's end
        // read a queued one late.
        #expect((3...7).contains(pings), "\(name): \(pings) pings in \(half * 5), about 5 expected")
    }
}
