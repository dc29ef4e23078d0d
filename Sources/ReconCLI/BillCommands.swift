import ArgumentParser
import Foundation
import ReconBillJobs
import ReconChannels
import ReconConfig
import ReconCore
import ReconJobs
import ReconPostgres

/// The job folder whose `[[channel]]` tables name the channels: `--jobs`, else `RECON_JOBS_DIR`.
struct JobFolderOptions: ParsableArguments {
    @Option(help: "Folder of job files (*.toml) with the [[channel]] tables (default: $RECON_JOBS_DIR).")
    var jobs: String?

    func resolved() -> String? {
        if let jobs, !jobs.isEmpty { return jobs }
        return ProcessInfo.processInfo.environment["RECON_JOBS_DIR"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The job files' contents; a bad file is refused with its file, line and key.
    func load() throws -> JobFileContents {
        guard let folder = resolved() else { return JobFileContents() }
        do {
            return try JobFile.load(directory: folder)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// `recon fetch-bill --channel C --date D`: enqueues the fetch_bill job and follows it to the end.
struct FetchBillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-bill",
        abstract: "Fetch one channel's bill for one day through the workers, and wait for it.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var jobFolder: JobFolderOptions
    @Option(help: "The channel's name in the job files.") var channel: String
    @Option(help: "The bill's date, YYYY-MM-DD.") var date: String
    @Flag(name: .customLong("no-wait"), help: "Enqueue and return without following the job.") var noWait = false
    @Option(name: .customLong("timeout-seconds"), help: "Stop following after this long (the job goes on).")
    var timeoutSeconds = 3600

    func validate() throws {
        guard LocalDay(date) != nil else { throw ValidationError("--date must be YYYY-MM-DD, got \(date)") }
    }

    func run() async throws {
        guard let day = LocalDay(date) else { throw ValidationError("--date must be YYYY-MM-DD") }
        let contents = try jobFolder.load()
        guard let definition = contents.channel(named: channel) else {
            let known = contents.channels.map(\.name).joined(separator: ", ")
            throw ValidationError(
                "no channel named \(channel) in \(jobFolder.resolved() ?? "(no --jobs folder)")"
                    + (known.isEmpty ? "" : "; known: \(known)"))
        }
        let args = "{\"channel\":\(jsonString(channel)),\"date\":\"\(day)\"}"
        let job = NewJob(
            kind: FetchBillHandler.kind, queue: definition.queue, args: args, priority: 0, retry: definition.retry)
        let pool = PGPool(connectionString: try database.resolved(), maxConnections: 1)
        defer { pool.close() }
        guard
            let enqueued = try await pool.transaction(
                name: "fetch-bill: enqueue", { try JobLedger.enqueue([job], on: $0) }
            ).first
        else { throw ValidationError("nothing was enqueued") }
        printNow("enqueued fetch_bill job \(enqueued.id) for \(channel) \(day) on queue \(definition.queue)")
        if noWait { return }
        let final = try await follow(enqueued.id, pool: pool)
        let report = try await pool.withConnection { try BillReport.load(channel: definition.name, day: day, on: $0) }
        if let note = report.otherFetchNote(job: enqueued.id, ended: final) { print(note) }
        print(report.text)
        guard final == JobState.completed.rawValue else {
            throw ExitCode(final == "timeout" ? 2 : 1)
        }
    }

    /// Prints each change of state and each new error until the job is finished.
    private func follow(_ id: Int64, pool: PGPool) async throws -> String {
        var lastState = ""
        var errorsShown = 0
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        while ContinuousClock.now < deadline {
            guard let record = try await pool.withConnection({ try JobLedger.record(id, on: $0) }) else {
                throw ValidationError("job \(id) is gone")
            }
            for error in record.errors.dropFirst(errorsShown) {
                printNow("  attempt \(error.attempt) failed: \(error.error)")
            }
            errorsShown = record.errors.count
            if record.state != lastState {
                let when =
                    record.state == "scheduled" || record.state == "retryable" ? " (runs at \(record.runAt))" : ""
                printNow("job \(id): \(record.state)\(when)")
                lastState = record.state
            }
            if ["completed", "dead", "cancelled"].contains(record.state) { return record.state }
            try await Task.sleep(for: .milliseconds(300))
        }
        printNow("still \(lastState) after \(timeoutSeconds) s; the job goes on (recon jobs show \(id))")
        return "timeout"
    }

    private func jsonString(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}

/// `recon bills show`: what was staged for a channel-day, from which file, and every attempt.
struct BillsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bills", abstract: "Staged channel bills.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Staged totals, the file's hash and the download attempts of one channel-day.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The channel's name.") var channel: String
        @Option(help: "The bill's date, YYYY-MM-DD.") var date: String
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard LocalDay(date) != nil else { throw ValidationError("--date must be YYYY-MM-DD, got \(date)") }
        }

        func run() async throws {
            guard let day = LocalDay(date) else { throw ValidationError("--date must be YYYY-MM-DD") }
            let channel = self.channel
            let report = try await withPool(database) { try BillReport.load(channel: channel, day: day, on: $0) }
            if json { return try printJSON(report) }
            print(report.text)
        }
    }
}
