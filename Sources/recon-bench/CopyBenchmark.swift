import ArgumentParser
import Foundation
import ReconBlocking
import ReconEmbeddedPostgres
import ReconPostgres
import ReconStore

/// Loads bill-shaped rows with the COPY layer and, in the same run and into the same server,
/// with `psql -c "\copy …"` from the same file, and prints rows/s for each.
struct CopyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy", abstract: "COPY FROM STDIN throughput against psql's \\copy.")

    @Option(help: "Rows per load.") var rows = 1_000_000
    @Option(help: "Loads per method; the median is reported.") var rounds = 3
    @Option(name: .customLong("database-url"), help: "Use this server instead of a private cluster.")
    var databaseURL: String?
    @Flag(help: "Run the private cluster with fsync on (the default turns it off).") var durable = false
    @Option(help: "Bytes per PQputCopyData call for rows encoded in Swift.") var chunk = 64 * 1024

    func run() async throws {
        if let databaseURL {
            try await measure(connectionString: databaseURL)
        } else {
            try await EmbeddedPostgres.withCluster(options: .init(durable: durable)) { cluster in
                try await measure(connectionString: cluster.connectionString())
            }
        }
    }

    private func measure(connectionString: String) async throws {
        let rowCount = rows
        let migrations = try Migration.bundled()
        let pool = PGPool(connectionString: connectionString, maxConnections: 1)
        defer { pool.close() }
        _ = try await pool.withConnection { connection in
            try MigrationRunner(migrations: migrations).migrate(connection)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("recon-bench-copy-\(getpid()).tsv")
            .path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await BlockingExecutor.shared.run { try writeBillLines(count: rowCount, to: file) }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        print(
            "rows: \(rows), file: \(size / 1_048_576) MiB, rounds: \(rounds), server fsync: \(durable ? "on" : "off")")

        // The client side alone: encoding the rows with nothing sent, to see what COPY costs us.
        let encodeStart = ContinuousClock.now
        var encodedBytes = 0
        var scratch = PGCopyRow()
        for index in 0..<rowCount {
            scratch.reset()
            appendBillLine(index, to: &scratch)
            encodedBytes &+= scratch.bytes.count
        }
        let encodeTime = ContinuousClock.now - encodeStart
        print("encoding alone: \(encodeTime) for \(encodedBytes / 1_048_576) MiB")

        var encoded: [Double] = []
        var passthrough: [Double] = []
        var psql: [Double] = []
        // The three loads take turns going first, so neither warm caches nor a checkpoint in
        // progress favour one of them.
        for round in 0..<rounds {
            for step in 0..<3 {
                switch (round + step) % 3 {
                case 0:
                    encoded.append(
                        try await timeLoad(pool) { connection in
                            try connection.copyIn("COPY bench_lines FROM STDIN", chunkSize: chunk) { writer in
                                var row = PGCopyRow()
                                for index in 0..<rowCount {
                                    row.reset()
                                    appendBillLine(index, to: &row)
                                    try writer.write(row)
                                }
                            }
                        })
                case 1:
                    passthrough.append(
                        try await timeLoad(pool) { connection in
                            try connection.copyIn("COPY bench_lines FROM STDIN") { writer in
                                try streamFile(file) { chunk in try writer.write(raw: chunk) }
                            }
                        })
                default:
                    psql.append(
                        try await timeLoad(pool) { _ in
                            try runPsql(connectionString, command: "\\copy bench_lines FROM '\(file)'")
                        })
                }
            }
        }
        func report(_ name: String, _ seconds: [Double]) -> Double {
            let median = seconds.sorted()[seconds.count / 2]
            let rate = Double(rowCount) / median
            print(
                "\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) median \(format(median)) s  "
                    + "\(Int(rate)) rows/s  (runs: \(seconds.map(format).joined(separator: ", ")))")
            return rate
        }
        let encodedRate = report("recon COPY, rows encoded in Swift", encoded)
        let passthroughRate = report("recon COPY, file streamed", passthrough)
        let psqlRate = report("psql \\copy from the same file", psql)
        print("ratio to psql: encoded \(format(encodedRate / psqlRate)), file \(format(passthroughRate / psqlRate))")
    }

    /// Empties the table, runs `load` and returns its wall-clock seconds, checking the row count.
    private func timeLoad(_ pool: PGPool, _ load: @escaping @Sendable (PGConnection) throws -> Void) async throws
        -> Double
    {
        let expected = rows
        return try await pool.withConnection { connection in
            try connection.execute(
                script:
                    "DROP TABLE IF EXISTS bench_lines; CREATE TABLE bench_lines (LIKE staged_bill_lines INCLUDING ALL);"
                    + "CHECKPOINT")
            let start = ContinuousClock.now
            try load(connection)
            let elapsed = ContinuousClock.now - start
            let loaded = try connection.query("SELECT count(*) FROM bench_lines").first?.decode(Int64.self, at: 0)
            guard loaded == Int64(expected) else {
                throw ValidationError("loaded \(loaded ?? 0) rows, expected \(expected)")
            }
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
    }
}

private let channels = ["alipay", "wechatpay", "unionpay", "bank_csv"]
private let billDate = PGDate(daysSince2000: 9_823)  // 2026-11-23

/// One line of a bill in the normalized shape (staged_bill_lines' columns, in order). Identifiers
/// are built in a reused byte buffer, as a parser cutting fields out of a bill line would hand them.
func appendBillLine(_ index: Int, to row: inout PGCopyRow) {
    let isRefund = index % 10 == 9
    row.append(channels[index % 4])
    row.append(billDate)
    row.append(index)
    withIdentifier("2026112322", index, 18) { row.append(utf8: $0) }
    withIdentifier("R20261123", index / 2, 8) { row.append(utf8: $0) }
    if isRefund {
        withIdentifier("RF20261123", index, 8) { row.append(utf8: $0) }
    } else {
        row.append(String?.none)
    }
    row.append(isRefund ? "refund" : "payment")
    row.append(Int64(isRefund ? -(index % 5000 + 100) : index % 100_000 + 1))
    row.append(Int64(isRefund ? -(index % 30) : index % 600))
    row.append("SUCCESS")
    row.append(PGTimestamp(microsecondsSince1970: 1_795_363_200_000_000 + Int64(index % 86_400) * 1_000_000))
    row.end()
}

/// `prefix` followed by `value` zero-padded to `width` digits, as bytes on the stack.
private func withIdentifier(
    _ prefix: StaticString, _ value: Int, _ width: Int, _ body: (UnsafeRawBufferPointer) -> Void
) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
        var count = 0
        prefix.withUTF8Buffer { bytes in
            for byte in bytes {
                buffer[count] = byte
                count += 1
            }
        }
        var rest = value
        for position in stride(from: count + width - 1, through: count, by: -1) {
            buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        count += width
        body(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[0..<count]))
    }
}

func writeBillLines(count: Int, to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil),
        let handle = FileHandle(forWritingAtPath: path)
    else { throw ValidationError("cannot create \(path)") }
    defer { try? handle.close() }
    var buffer: [UInt8] = []
    var row = PGCopyRow()
    for index in 0..<count {
        row.reset()
        appendBillLine(index, to: &row)
        buffer.append(contentsOf: row.bytes)
        if buffer.count > 1 << 20 {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }
    try handle.write(contentsOf: buffer)
}

func streamFile(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot open \(path)") }
    defer { try? handle.close() }
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        try chunk.withUnsafeBytes(body)
    }
}

func runPsql(_ connectionString: String, command: String) throws {
    try runPsql(connectionString, commands: [command])
}

/// One psql session running `commands` in turn (a `\copy` must be a command of its own).
func runPsql(_ connectionString: String, commands: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
    process.arguments =
        ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", connectionString] + commands.flatMap { ["-c", $0] }
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ValidationError("psql exited \(process.terminationStatus)") }
}

private func format(_ value: Double) -> String { String(format: "%.2f", value) }
