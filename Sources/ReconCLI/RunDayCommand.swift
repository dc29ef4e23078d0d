import ArgumentParser
import Foundation
import ReconCore
import ReconJobs
import ReconPostgres
import ReconReconcile

/// `recon run-day --date D`: enqueues a run_day job for the day and follows its graph to the end,
/// with a bar per stage on a terminal and a plain line per change otherwise. Workers (and a
/// coordinator) do the work; this only watches the ledger.
struct RunDayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-day",
        abstract: "Run a business day's fetch, reconcile, finalize and settle jobs, and follow them to the end.",
        discussion: "Exits 0 when the day is settled; 1 with the dead job and its error otherwise.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var day: DayOption
    @OptionGroup var jobFolder: JobFolderOptions
    @Option(name: .customLong("timeout-minutes"), help: "Give up following after this long (the jobs go on).")
    var timeoutMinutes = 240

    /// How long following survives the database being unreachable before giving up.
    static let reconnectSeconds = 120

    /// Runs `body` on a pooled connection, through a restart or failover of PostgreSQL: the jobs go
    /// on meanwhile, so following them goes on too, for up to `reconnectSeconds`. The pool
    /// reconnects on the next call; the first failure is said once on stderr.
    static func reconnecting<T: Sendable>(
        _ pool: PGPool, terminal: Bool, _ body: @Sendable @escaping (PGConnection) throws -> T
    ) async throws -> T {
        var since: ContinuousClock.Instant?
        while true {
            do {
                let result = try await pool.withConnection(body)
                if since != nil { FileHandle.standardError.write(Data("the database is back\n".utf8)) }
                return result
            } catch let error as PGError where error.passesByWaiting {
                if since == nil {
                    if terminal { print("") }
                    FileHandle.standardError.write(Data("the database went away (\(error)); reconnecting\n".utf8))
                }
                let start = since ?? ContinuousClock.now
                since = start
                guard ContinuousClock.now - start < .seconds(reconnectSeconds) else { throw error }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    static let stages = [
        DayGraph.fetchBill, DayGraph.reconcile, DayGraph.finalize, DayGraph.reconcileVirtual, DayGraph.settle,
    ]

    func run() async throws {
        let day = try day.day()
        _ = try jobFolder.load()  // a bad job file is refused here, with its file and line
        let pool = PGPool(connectionString: try database.resolved(), maxConnections: 1)
        defer { pool.close() }
        let terminal = isatty(STDOUT_FILENO) == 1
        let runJob = try await Self.enqueue(day, pool: pool, terminal: terminal)
        printNow("run_day \(day): job \(runJob)")
        switch try await Self.follow(
            runJob, pool: pool, terminal: terminal, until: ContinuousClock.now + .seconds(timeoutMinutes * 60))
        {
        case .settled:
            printNow("\(day) settled")
        case .dead(let dead):
            FileHandle.standardError.write(
                Data("\(day) did not settle: \(dead.kind) job \(dead.id) is \(dead.state): \(dead.error)\n".utf8))
            throw ExitCode(1)
        case .timedOut:
            FileHandle.standardError.write(Data("gave up following \(day) after \(timeoutMinutes) minutes\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Enqueues a run_day job for the day and returns its id.
    static func enqueue(_ day: LocalDay, pool: PGPool, terminal: Bool) async throws -> Int64 {
        // The same unique key on every try: an enqueue whose answer was lost is found, not doubled.
        let uniqueKey = "run_day:\(day):cli:\(UUID().uuidString)"
        return try await reconnecting(pool, terminal: terminal) { connection in
            try connection.transaction(name: "run-day: enqueue") { connection in
                try JobLedger.enqueue(
                    [
                        NewJob(
                            kind: DayGraph.runDay, queue: DayGraph.queue, args: "{\"date\": \"\(day)\"}",
                            uniqueKey: uniqueKey)
                    ], on: connection
                ).first?.id ?? -1
            }
        }
    }

    enum Followed {
        case settled
        case dead(DayProgress.Dead)
        case timedOut
    }

    /// Follows a run_day job's graph until the day settles, a job of it dies, or `deadline`: a bar
    /// per stage redrawn on a terminal, a plain line per change otherwise.
    static func follow(_ runJob: Int64, pool: PGPool, terminal: Bool, until deadline: ContinuousClock.Instant)
        async throws -> Followed
    {
        var lastLine = ""
        while ContinuousClock.now < deadline {
            let progress = try await reconnecting(pool, terminal: terminal) { connection in
                try DayProgress.read(runJob: runJob, on: connection)
            }
            let line = progress.line(stages: stages, bars: terminal)
            if terminal {
                FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
            } else if line != lastLine {
                printNow(line)
            }
            lastLine = line
            if let dead = progress.dead {
                if terminal { print("") }
                return .dead(dead)
            }
            if progress.settled {
                if terminal { print("") }
                return .settled
            }
            try await Task.sleep(for: .milliseconds(terminal ? 200 : 1000))
        }
        if terminal { print("") }
        return .timedOut
    }
}

/// Where a run of a day stands: its jobs' states by kind.
struct DayProgress: Sendable {
    struct Dead: Sendable {
        var id: Int64
        var kind: String
        var state: String
        var error: String
    }

    var counts: [String: (done: Int, total: Int)] = [:]
    var dead: Dead?
    var settled = false

    static func read(runJob: Int64, on connection: PGConnection) throws -> DayProgress {
        var progress = DayProgress()
        // The run_day job itself first: until it completes there is no graph to follow.
        let run = try connection.query(
            "SELECT state, errors->-1->>'error' FROM recon_jobs WHERE id = $1", [runJob], name: "run-day: run job")
        guard let runRow = run.first else { return progress }
        let runState = try runRow.decode(String.self, at: 0)
        if runState == "dead" || runState == "cancelled" {
            progress.dead = Dead(
                id: runJob, kind: DayGraph.runDay, state: runState,
                error: try runRow.decode(String?.self, at: 1) ?? "no error recorded")
            return progress
        }
        guard
            let jobs = try connection.query(
                "SELECT jobs, settle_job FROM recon_day_runs WHERE run_id = $1", [runJob], name: "run-day: graph"
            ).first
        else { return progress }
        let settleJob = try jobs.decode(Int64.self, at: 1)
        // The jobs this run enqueued (a finalize's rerun of a later day is that day's to follow).
        for row in try connection.query(
            """
            SELECT j.id, j.kind, j.state, j.errors->-1->>'error' FROM recon_jobs j
            WHERE j.id = ANY((SELECT jobs FROM recon_day_runs WHERE run_id = $1)::int8[])
            ORDER BY j.id
            """, [runJob], name: "run-day: job states"
        ).rows {
            let id = try row.decode(Int64.self, at: 0)
            let kind = try row.decode(String.self, at: 1), state = try row.decode(String.self, at: 2)
            var count = progress.counts[kind] ?? (0, 0)
            count.total += 1
            if state == "completed" { count.done += 1 }
            progress.counts[kind] = count
            if (state == "dead" || state == "cancelled") && progress.dead == nil {
                progress.dead = Dead(
                    id: id, kind: kind, state: state, error: try row.decode(String?.self, at: 3) ?? "no error recorded")
            }
            if id == settleJob && state == "completed" { progress.settled = true }
        }
        return progress
    }

    func line(stages: [String], bars: Bool) -> String {
        stages.compactMap { stage in
            guard let count = counts[stage] else { return nil }
            guard bars else { return "\(stage) \(count.done)/\(count.total)" }
            let width = 10
            let filled = count.total == 0 ? 0 : count.done * width / count.total
            return
                "\(stage) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
                + "\(count.done)/\(count.total)"
        }.joined(separator: "  ")
    }
}

extension PGError {
    /// A connection failure that a restart or failover of the server explains and that waiting
    /// mends: the server shutting down or starting up, its socket or port not there yet, a
    /// connection cut. A refused login, an unknown database or role, or a bad connection string
    /// stays as it is, and is said at once.
    var passesByWaiting: Bool {
        if code == .connectionLost { return true }
        guard code == .connectionFailed else { return false }
        let text = message.lowercased()
        let lasting = [
            "authentication", "password", "does not exist", "invalid", "permission denied", "pg_hba.conf",
            "could not translate host name", "missing \"=\"", "unrecognized",
        ]
        return !lasting.contains { text.contains($0) }
    }
}
