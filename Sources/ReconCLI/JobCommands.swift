import ArgumentParser
import Foundation
import ReconCore
import ReconJobs
import ReconPostgres

/// Opens a one-connection pool for a CLI command and closes it afterwards.
func withPool<T: Sendable>(_ database: DatabaseOptions, _ body: @escaping @Sendable (PGConnection) throws -> T)
    async throws -> T
{
    let pool = PGPool(connectionString: try database.resolved(), maxConnections: 1)
    defer { pool.close() }
    return try await pool.withConnection(body)
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `recon enqueue KIND`: adds one job.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enqueue", abstract: "Add a job to the ledger.")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The job's kind, e.g. fetch_bill.") var kind: String
    @Option(help: "Arguments as a JSON object.") var args = "{}"
    @Option(help: "Queue.") var queue = "default"
    @Option(help: "Priority, 0 (first) to 32767.") var priority = 1
    @Option(name: .customLong("unique-key"), help: "Enqueue once per key; later calls return the first job.")
    var uniqueKey: String?
    @Option(name: .customLong("run-at"), help: "When to run: an ISO 8601 time with offset, or +N[s|m|h].")
    var runAt: String?
    @Option(name: .customLong("depends-on"), parsing: .upToNextOption, help: "Job ids that must complete first.")
    var dependsOn: [Int64] = []
    @Option(name: .customLong("max-attempts"), help: "Attempts before the job is dead.") var maxAttempts = 20
    @Option(name: .customLong("backoff-base"), help: "Retry backoff after the first failure, e.g. 1s.")
    var backoffBase = "1s"
    @Option(name: .customLong("backoff-cap"), help: "Longest retry backoff, e.g. 1h.") var backoffCap = "1h"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard (try? JSONSerialization.jsonObject(with: Data(args.utf8))) is [String: Any] else {
            throw ValidationError("--args must be a JSON object, e.g. '{\"channel\":\"alipay\"}'")
        }
        if let runAt, parseRunAt(runAt) == nil {
            throw ValidationError("--run-at must be like 2026-11-24T09:30:00+08:00 or +10m, got \(runAt)")
        }
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
        guard DurationText.milliseconds(backoffBase) != nil, DurationText.milliseconds(backoffCap) != nil else {
            throw ValidationError("--backoff-base and --backoff-cap take durations like 500ms, 30s, 10m, 1h")
        }
    }

    func run() async throws {
        let job = NewJob(
            kind: kind, queue: queue, args: args, priority: priority, runAt: runAt.flatMap(parseRunAt),
            retry: RetryPolicy(
                maxAttempts: maxAttempts, baseMilliseconds: DurationText.milliseconds(backoffBase) ?? 1000,
                capMilliseconds: DurationText.milliseconds(backoffCap) ?? 3_600_000),
            uniqueKey: uniqueKey, dependsOn: dependsOn)
        let result = try await withPool(database) { connection in
            try connection.transaction { try JobLedger.enqueue([job], on: $0) }
        }
        guard let first = result.first else { throw ValidationError("nothing was enqueued") }
        if json { return try printJSON(first) }
        print(first.inserted ? "enqueued job \(first.id)" : "job \(first.id) already exists with that unique key")
    }
}

/// `+90s`, `+10m`, `+2h` from now, or an ISO 8601 time with an offset.
func parseRunAt(_ text: String) -> PGTimestamp? {
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
    if text.hasPrefix("+"), let unit = text.last, let amount = Int64(text.dropFirst().dropLast()), amount >= 0 {
        let seconds: Int64? =
            switch unit {
            case "s": amount
            case "m": amount * 60
            case "h": amount * 3600
            default: nil
            }
        return seconds.map { PGTimestamp(microsecondsSince1970: now + $0 * 1_000_000) }
    }
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: text) else { return nil }
    return PGTimestamp(microsecondsSince1970: Int64(date.timeIntervalSince1970) * 1_000_000)
}

/// `recon status`: job counts by queue and state, and the live leases by worker.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Job counts by queue and state; running leases by worker.")

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let status = try await withPool(database) { try JobStatus.read(on: $0) }
        if json { return try printJSON(status) }
        print(
            "QUEUE".padding(toLength: 20, withPad: " ", startingAt: 0)
                + "STATE".padding(toLength: 12, withPad: " ", startingAt: 0) + "JOBS")
        for count in status.counts {
            print(
                count.queue.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + count.state.padding(toLength: 12, withPad: " ", startingAt: 0) + "\(count.jobs)")
        }
        if status.counts.isEmpty { print("(no jobs)") }
        print("")
        print("WORKER".padding(toLength: 32, withPad: " ", startingAt: 0) + "RUNNING  OLDEST LEASE")
        for worker in status.workers {
            print(
                worker.worker.padding(toLength: 32, withPad: " ", startingAt: 0)
                    + "\(worker.running)".padding(toLength: 9, withPad: " ", startingAt: 0)
                    + "\(worker.oldestLeaseSeconds)s")
        }
        if status.workers.isEmpty { print("(no running leases)") }
    }
}

/// Prints a line straight to standard output, unbuffered: scripts and tests wait for these lines.
func printNow(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
