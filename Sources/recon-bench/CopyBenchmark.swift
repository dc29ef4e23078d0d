import ArgumentParser
import Foundation
import ReconBillJobs
import ReconBills
import ReconBlocking
import ReconCore
import ReconEmbeddedPostgres
import ReconMatching
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
        var scratch = BillLineEncoder<PGCopyRow>(keyRule: .sharedTransactionID)
        for index in 0..<rowCount {
            appendBillLine(index, to: &scratch)
            encodedBytes &+= scratch.row.bytes.count
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
                            try connection.copyIn("COPY \(benchCopyColumns) FROM STDIN", chunkSize: chunk) {
                                writer in
                                var encoder = BillLineEncoder<PGCopyRow>(keyRule: .sharedTransactionID)
                                for index in 0..<rowCount {
                                    appendBillLine(index, to: &encoder)
                                    try writer.write(encoder.row)
                                }
                            }
                        })
                case 1:
                    passthrough.append(
                        try await timeLoad(pool) { connection in
                            try connection.copyIn("COPY \(benchCopyColumns) FROM STDIN") { writer in
                                try streamFile(file) { chunk in try writer.write(raw: chunk) }
                            }
                        })
                default:
                    psql.append(
                        try await timeLoad(pool) { _ in
                            try runPsql(connectionString, command: "\\copy \(benchCopyColumns) FROM '\(file)'")
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
private let billDay = LocalDay(dayNumber: 20_780)  // 2026-11-23

/// The COPY column list of `staged_bill_lines`, from the encoder staging uses: a column added to
/// the table reaches this benchmark through the encoder, so the benchmark cannot fall out of step.
let benchCopyColumns = "bench_lines (\(BillLineColumns.list))"

/// Line `index` of a synthetic bill in the normalized shape: every tenth a refund.
func benchBillLine(_ index: Int) -> BillLine {
    let isRefund = index % 10 == 9
    return BillLine(
        channel: channels[index % 4], billDate: billDay,
        channelTransactionID: "2026112322" + padded(index, 18),
        merchantOrderID: "R20261123" + padded(index / 2, 8),
        refundID: isRefund ? "RF20261123" + padded(index, 8) : nil,
        kind: isRefund ? .refund : .payment,
        amountFen: Int64(isRefund ? -(index % 5000 + 100) : index % 100_000 + 1),
        feeFen: Int64(isRefund ? -(index % 30) : index % 600), channelStatus: "SUCCESS",
        timeMicroseconds: 1_795_363_200_000_000 + Int64(index % 86_400) * 1_000_000, lineNumber: index + 1)
}

/// Line `index` encoded as staging encodes it, into `encoder.row`.
func appendBillLine(_ index: Int, to encoder: inout BillLineEncoder<PGCopyRow>) {
    encoder.encode(benchBillLine(index))
}

private func padded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

func writeBillLines(count: Int, to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil),
        let handle = FileHandle(forWritingAtPath: path)
    else { throw ValidationError("cannot create \(path)") }
    defer { try? handle.close() }
    var buffer: [UInt8] = []
    var encoder = BillLineEncoder<PGCopyRow>(keyRule: .sharedTransactionID)
    for index in 0..<count {
        appendBillLine(index, to: &encoder)
        buffer.append(contentsOf: encoder.row.bytes)
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
