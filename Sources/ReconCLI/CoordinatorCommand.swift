import ArgumentParser
import Foundation
import Logging
import ReconConfig
import ReconCoordinator
import ReconCore
import ReconJobs

/// `recon coordinator`: serves the lease API and runs the reaper and the other maintenance loops.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator", abstract: "Lease jobs to workers over HTTP; reap expired leases.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var token: TokenOptions
    @Option(help: "Address to listen on, host:port (port 0 picks a free one).") var listen = "127.0.0.1:7070"
    @Option(name: .customLong("lease-ms"), help: "Lease length in milliseconds.") var leaseMilliseconds: Int64 = 30_000
    @Option(name: .customLong("retention-days"), help: "Delete finished jobs after this many days.")
    var retentionDays: Int64 = 30
    @Option(help: "Folder of job files (*.toml) whose [[schedule]]s this coordinator fires.") var jobs: String?
    @OptionGroup var logFormat: LogFormatOptions

    func validate() throws {
        guard listenAddress != nil else { throw ValidationError("--listen must be host:port, got \(listen)") }
        guard leaseMilliseconds >= 100 else { throw ValidationError("--lease-ms must be at least 100") }
    }

    private var listenAddress: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(listen[..<colon]), port)
    }

    func run() async throws {
        guard let address = listenAddress else { throw ValidationError("--listen must be host:port") }
        let logger = Logger(label: "recon.coordinator")
        // A bad job file stops the coordinator here, with the file, line and key in the message.
        let schedules: [ScheduleDefinition]
        do {
            schedules = try jobs.map(JobFile.loadSchedules(directory:)) ?? []
        } catch {
            throw ValidationError("\(error)")
        }
        let configuration = CoordinatorConfiguration(
            host: address.host, port: address.port, databaseURL: try database.resolved(),
            apiToken: try token.resolved(),
            leaseMilliseconds: leaseMilliseconds, retentionMilliseconds: retentionDays * 86_400_000,
            schedules: schedules, logFields: .recon)
        let watchdog = SystemdNotify.startWatchdog()
        defer { watchdog?.cancel() }
        // onListening runs once the server's socket is bound and listening: READY=1 means the port answers.
        try await Coordinator.run(
            configuration, logger: logger,
            onListening: { port in
                // Tests and scripts read this line to learn the port; systemd learns it from READY=1.
                printNow("coordinator listening on \(address.host):\(port)")
                printNow("dashboard: http://\(address.host):\(port)/ (log in with the API token)")
                SystemdNotify.send("READY=1\nSTATUS=listening on \(address.host):\(port)")
            }, alongside: [StoppingNotice()])
    }
}
