import ArgumentParser
import Foundation
import ReconChannels
import ReconConfig
import ReconMatching
import ReconPostgres
import ReconReconcile

/// `recon import-payments --file F.csv`: the payment center's legs, all or nothing.
struct ImportPaymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-payments",
        abstract: "Import payment legs from a CSV file (or - for standard input); all or nothing.",
        discussion: """
            Header, exactly: order_id,leg_id,business_system,merchant_id,leg_kind,channel,channel_txn_id,
            refund_id,direction,amount,fee,status,occurred_at. Channel names come from the job files' [[channel]]
            tables. Importing a file again leaves the same rows; a changed row replaces the old one.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var jobFolder: JobFolderOptions
    @Option(help: "The CSV file, or - for standard input.") var file: String

    func run() async throws {
        let channels = try jobFolder.load().channels
        var keying: [String: RecordImporter.ChannelKeying] = [:]
        for channel in channels {
            keying[channel.name] = RecordImporter.ChannelKeying(
                rule: channel.keyRule, timeZone: channel.timeZone)
        }
        let input = ImportInput(path: file)
        let channelKeying = keying
        let summary = try await runImport(database, label: input.label) { connection in
            try RecordImporter.importPayments(input, channels: channelKeying, on: connection)
        }
        print("imported \(input.label): \(summary)")
    }
}

/// `recon import-ledger --file F.csv`: the virtual-account ledger, all or nothing.
struct ImportLedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-ledger",
        abstract: "Import virtual-account ledger entries from a CSV file (or - for standard input); all or nothing.",
        discussion: "Header, exactly: entry_id,account_id,asset,leg_id,amount,occurred_at.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The CSV file, or - for standard input.") var file: String

    func run() async throws {
        let input = ImportInput(path: file)
        let summary = try await runImport(database, label: input.label) { connection in
            try RecordImporter.importLedger(input, on: connection)
        }
        print("imported \(input.label): \(summary)")
    }
}

/// Runs an import in one transaction on a connection thread of its own; a refused file prints its
/// problems on stderr and exits 1, with nothing imported.
private func runImport(
    _ database: DatabaseOptions, label: String, _ body: @escaping @Sendable (PGConnection) throws -> ImportSummary
) async throws -> ImportSummary {
    let pool = PGPool(connectionString: try database.resolved(), maxConnections: 1)
    defer { pool.close() }
    do {
        return try await pool.transaction(name: "import \(label)") { connection in try body(connection) }
    } catch let error as ImportError {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(1)
    }
}
