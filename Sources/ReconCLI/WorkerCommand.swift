import ArgumentParser
import Foundation
import Logging
import ReconBillJobs
import ReconChannels
import ReconConfig
import ReconCore
import ReconDayJobs
import ReconJobs
import ReconWorker
import ServiceLifecycle
import UnixSignals

/// `recon worker`: runs jobs leased from the coordinators. Start more of them to go faster.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Lease jobs from coordinators and run them.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var token: TokenOptions
    @Option(help: "Coordinator base URLs, comma-separated (tried in turn).") var coordinator: String
    @Option(help: "Jobs run at once.") var slots = 4
    @Option(help: "Queues to take jobs from, comma-separated.") var queues = "default,bills"
    @OptionGroup var jobFolder: JobFolderOptions
    @Option(name: .customLong("download-dir"), help: "Where bill downloads in progress are kept.")
    var downloadDir = "/var/lib/recon/downloads"
    @Option(name: .customLong("archive-dir"), help: "Where raw bill files are kept, named by SHA-256.")
    var archiveDir = "/var/lib/recon/archive"
    @Option(name: .customLong("spool-dir"), help: "Where reconcile results wait for their job's completion.")
    var spoolDir = "/var/lib/recon/spool"
    @Option(name: .customLong("settlement-dir"), help: "Where settle writes settlement-YYYY-MM-DD.csv.")
    var settlementDir = "/var/lib/recon/settlements"
    @Option(name: .customLong("worker-id"), help: "This worker's name in leases (default host:pid).")
    var workerID: String?
    @Option(name: .customLong("grace-seconds"), help: "Time running jobs get after SIGTERM.") var graceSeconds = 20
    @Option(name: .customLong("job-timeout-seconds"), help: "Longest a job may run before it is failed and retried.")
    var jobTimeoutSeconds = 3600
    /// `recon demo`'s workers: stop (as on SIGTERM) once that process is gone, however it went.
    @Option(name: .customLong("parent-pid"), help: .hidden) var parentPID: Int32?
    @Option(
        name: .customLong("metrics-listen"), help: "Serve GET /metrics (Prometheus) on host:port; off if not given.")
    var metricsListen: String?
    @OptionGroup var logFormat: LogFormatOptions

    func validate() throws {
        guard (1...1000).contains(slots) else { throw ValidationError("--slots must be 1 to 1000") }
        guard jobTimeoutSeconds >= 1 else { throw ValidationError("--job-timeout-seconds must be at least 1") }
        guard !coordinatorURLs.isEmpty else { throw ValidationError("--coordinator needs at least one URL") }
        for url in coordinatorURLs where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ValidationError("--coordinator URLs must start with http:// or https://")
        }
    }

    private var coordinatorURLs: [String] {
        coordinator.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let id = workerID ?? "\(ProcessInfo.processInfo.hostName):\(getpid())"
        var logger = Logger(label: "recon.worker")
        logger[metadataKey: "worker.id"] = "\(id)"
        // A bad job file stops the worker here, with the file, line and key in the message.
        let channels = try jobFolder.load().channels
        // So does a secret a channel names that cannot be read (a key file missing, a variable unset).
        do {
            try SecretResolver().checkAll(channels)
        } catch {
            throw ValidationError("\(error)")
        }
        var registry = JobRegistry.builtIn
        // Without channels this worker hands fetch_bill jobs back to one that has them.
        if !channels.isEmpty {
            registry.register(
                FetchBillHandler.kind,
                FetchBillHandler(channels: channels, folders: BillFolders(downloads: downloadDir, archive: archiveDir)))
        }
        // The virtual-account check and settlement run with or without channels.
        // RECON_FAULT_SHARD_PAUSE_MS: fault injection for tests (a worker killed mid-shard).
        let pause = ProcessInfo.processInfo.environment["RECON_FAULT_SHARD_PAUSE_MS"].flatMap(Int.init).map {
            Duration.milliseconds($0)
        }
        registry.registerDayJobs(
            channels: channels, folders: DayFolders(work: spoolDir, settlements: settlementDir),
            shardPauseBeforeCommit: pause)
        let worker = Worker(
            configuration: WorkerConfiguration(
                coordinators: coordinatorURLs, apiToken: try token.resolved(), databaseURL: try database.resolved(),
                workerID: id, slots: slots,
                queues: queues.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                gracePeriod: .seconds(graceSeconds), jobTimeout: .seconds(jobTimeoutSeconds), logFields: .recon),
            registry: registry, logger: logger)
        printNow("worker \(id) started with \(slots) slots")
        SystemdNotify.send("READY=1\nSTATUS=worker \(id), \(slots) slots")
        let watchdog = SystemdNotify.startWatchdog()
        defer { watchdog?.cancel() }
        let orphaned = parentPID.map { parent in
            Task {
                // Once the parent is gone this process is re-parented: the graceful SIGTERM path.
                while !Task.isCancelled && getppid() == parent { try? await Task.sleep(for: .seconds(1)) }
                if !Task.isCancelled { kill(getpid(), SIGTERM) }
            }
        }
        defer { orphaned?.cancel() }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: worker)]
        if let metricsListen {
            services.append(
                .init(
                    service: try MetricsListener(address: metricsListen, logger: logger) { port in
                        printNow("worker \(id) metrics listening on port \(port)")
                    }))
        }
        // Listed last, so that it hears of the shutdown first and says STOPPING=1 at once.
        services.append(.init(service: StoppingNotice(), successTerminationBehavior: .ignore))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
