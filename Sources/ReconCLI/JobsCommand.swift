import ArgumentParser
import ReconJobs
import ReconPostgres

/// `recon jobs show ID` and `recon jobs list --state dead`.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Look at jobs.", subcommands: [Show.self, List.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job, with every attempt's error.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: Int64
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let id = self.id
            guard let record = try await withPool(database, { try JobLedger.record(id, on: $0) }) else {
                throw ValidationError("there is no job \(id)")
            }
            if json { return try printJSON(record) }
            printRecord(record)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs in one state, newest first.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "pending, scheduled, available, running, retryable, completed, dead or cancelled.")
        var state: String
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard JobState(rawValue: state) != nil else {
                throw ValidationError(
                    "--state must be one of " + JobState.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }

        func run() async throws {
            guard let state = JobState(rawValue: state) else { return }
            let limit = self.limit
            let records = try await withPool(database) { try JobLedger.list(state: state, limit: limit, on: $0) }
            if json { return try printJSON(records) }
            for record in records {
                let lastError = record.errors.last.map { " — \($0.error)" } ?? ""
                print(
                    "\(record.id)\t\(record.kind)\t\(record.queue)\tattempt \(record.attempt)/\(record.maxAttempts)\(lastError)"
                )
            }
            if records.isEmpty { print("(no \(state.rawValue) jobs)") }
        }
    }
}

func printRecord(_ record: JobRecord) {
    print("job \(record.id): \(record.kind) in \(record.queue), \(record.state)")
    print("  args:      \(record.args)")
    print("  attempt:   \(record.attempt) of \(record.maxAttempts), priority \(record.priority)")
    print("  run at:    \(record.runAt)")
    print("  created:   \(record.createdAt)")
    if let finalized = record.finalizedAt { print("  finished:  \(finalized)") }
    if let key = record.uniqueKey { print("  unique key: \(key)") }
    if let owner = record.leaseOwner { print("  last lease: \(owner), until \(record.leaseExpiresAt ?? "?")") }
    if let held = record.heldBecause { print("  \(held)") }
    for dependency in record.dependsOn {
        print("  depends on job \(dependency.id) (\(dependency.kind)): \(dependency.state)")
    }
    for attempt in record.errors {
        print("  attempt \(attempt.attempt) at \(attempt.at) on \(attempt.worker ?? "?"): \(attempt.error)")
    }
}

/// `recon retry ID`: a dead (or cancelled, retryable, scheduled) job runs again now.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Run a job again now.")
    @OptionGroup var database: DatabaseOptions
    @Argument var id: Int64

    func run() async throws {
        let id = self.id
        let before = try await withPool(database) { connection in
            try connection.transaction { try JobLedger.retry(id, on: $0) }
        }
        guard let before else { throw ValidationError("there is no job \(id)") }
        print("job \(id) was \(before.rawValue); it is available again")
    }
}

/// `recon cancel ID`: a job that has not finished will not run (a running one loses its lease).
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a job.")
    @OptionGroup var database: DatabaseOptions
    @Argument var id: Int64

    func run() async throws {
        let id = self.id
        let before = try await withPool(database) { connection in
            try connection.transaction { try JobLedger.cancel(id, on: $0) }
        }
        guard let before else { throw ValidationError("there is no job \(id)") }
        print("job \(id) was \(before.rawValue); it is cancelled")
    }
}
