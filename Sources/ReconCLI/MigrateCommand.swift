import ArgumentParser
import ReconBlocking
import ReconPostgres
import ReconStore

/// `recon migrate`: brings the database schema up to this build's version. Safe to run from
/// several machines at once (an advisory lock serializes them).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the database migrations this build ships.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let connectionString = try database.resolved()
        let report = try await runMigrations(connectionString: connectionString)
        for migration in report.applied { print("applied \(migration.name)") }
        if report.applied.isEmpty { print("schema is up to date") }
        if !report.unknownVersions.isEmpty {
            print("note: the database has migrations this build does not know: \(report.unknownVersions)")
        }
        print("schema version \(report.currentVersion)")
    }
}

/// Opens a connection on a thread of our own and migrates.
func runMigrations(connectionString: String) async throws -> MigrationRunner.Report {
    let migrations = try Migration.bundled()
    return try await BlockingExecutor.shared.run {
        let connection = try PGConnection(connectionString: connectionString)
        defer { connection.close() }
        return try MigrationRunner(migrations: migrations).migrate(connection)
    }
}
