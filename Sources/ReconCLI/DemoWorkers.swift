import Foundation

/// The demo's worker processes, stopped however the demo ends: at its end, on an error (the
/// caller's `defer`), or on Ctrl-C or SIGTERM (`DemoInterrupt`).
final class DemoWorkers: @unchecked Sendable {
    // @unchecked: `processes` is set once; `stopped` is guarded by `lock`.
    private let processes: [Process]
    private let lock = NSLock()
    private var stopped = false
    var pids: [Int32] { processes.map(\.processIdentifier) }

    private init(_ processes: [Process]) { self.processes = processes }

    /// Starts `count` workers on the demo's folders; their logs go to `<folder>/workers.log`.
    static func start(
        count: Int, coordinator: String, token: String, database: String, days: DemoDays,
        started: (DemoWorkers) -> Void
    ) throws -> DemoWorkers {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let logPath = days.folder + "/workers.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        var processes: [Process] = []
        for index in 0..<count {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = [
                "worker", "--coordinator", coordinator, "--slots", "4", "--worker-id", "demo-worker-\(index)",
                "--queues", "default,bills", "--jobs", days.jobs, "--download-dir", days.downloads, "--archive-dir",
                days.archive, "--spool-dir", days.spool, "--settlement-dir", days.settlements, "--parent-pid",
                String(getpid()),
            ]
            child.environment = ProcessInfo.processInfo.environment.merging([
                "RECON_API_TOKEN": token, "RECON_DATABASE_URL": database, "RECON_LOG_LEVEL": "info",
            ]) { $1 }
            child.standardOutput = log
            child.standardError = log
            child.standardInput = FileHandle.nullDevice
            do {
                try child.run()
            } catch {
                DemoWorkers(processes).stop()
                throw error
            }
            processes.append(child)
            // Told at once, so that a signal arriving while the others start stops this one too.
            started(DemoWorkers(processes))
        }
        return DemoWorkers(processes)
    }

    /// SIGTERM to every worker, up to 10 s for them to hand back their jobs, then SIGKILL. Once.
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        guard first else { return }
        for process in processes where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while processes.contains(where: \.isRunning) && Date() < deadline { usleep(50_000) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
