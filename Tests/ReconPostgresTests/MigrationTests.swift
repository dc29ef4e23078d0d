import Foundation
import ReconBlocking
import ReconPostgres
import ReconStore
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast) struct MigrationTests {
    @Test func twoProcessesMigratingAtOnceApplyEachMigrationOnce() async throws {
        let database = try await TestPostgres.freshDatabase("migrate")
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await BlockingExecutor.shared.run {
                        try runMigrate(["migrate", "--database-url", database])
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let bundled = try Migration.bundled()
        #expect(!bundled.isEmpty)
        // Every migration was applied by exactly one of the two processes.
        for migration in bundled {
            let appliers = outputs.filter { $0.contains("applied \(migration.name)") }
            #expect(appliers.count == 1, "\(migration.name) applied by \(appliers.count) processes: \(outputs)")
        }
        let pool = PGPool(connectionString: database, maxConnections: 1)
        defer { pool.close() }
        let versions = try await pool.query("SELECT version FROM schema_migrations ORDER BY version").rows.map {
            try $0.decode(Int.self, at: 0)
        }
        #expect(versions == bundled.map(\.version))
        let table = try await pool.query("SELECT to_regclass('staged_bill_lines')::text").first?
            .decode(String?.self, at: 0)
        #expect(table == "staged_bill_lines")

        // A third run finds nothing to do.
        let again = try await BlockingExecutor.shared.run {
            try runMigrate(["migrate", "--database-url", database])
        }
        #expect(again.contains("schema is up to date"))
    }

    @Test func anEditedMigrationIsRefused() async throws {
        let database = try await TestPostgres.freshDatabase("edited")
        let first = [Migration(version: 1, name: "0001_a.sql", sql: "CREATE TABLE a (n int)")]
        let edited = [Migration(version: 1, name: "0001_a.sql", sql: "CREATE TABLE a (n int8)")]
        try await BlockingExecutor.shared.run {
            let connection = try PGConnection(connectionString: database)
            defer { connection.close() }
            let report = try MigrationRunner(migrations: first).migrate(connection)
            #expect(report.applied.map(\.version) == [1])
            #expect(throws: MigrationError.self) { try MigrationRunner(migrations: edited).migrate(connection) }
        }
    }

    @Test func aFailingMigrationLeavesNoTraceAndStopsTheRun() async throws {
        let database = try await TestPostgres.freshDatabase("failing")
        let migrations = [
            Migration(version: 1, name: "0001_ok.sql", sql: "CREATE TABLE ok (n int)"),
            Migration(version: 2, name: "0002_bad.sql", sql: "CREATE TABLE half (n int); SELECT 1/0;"),
            Migration(version: 3, name: "0003_later.sql", sql: "CREATE TABLE later (n int)"),
        ]
        try await BlockingExecutor.shared.run {
            let connection = try PGConnection(connectionString: database)
            defer { connection.close() }
            let error = try #require(throws: PGError.self) {
                try MigrationRunner(migrations: migrations).migrate(connection)
            }
            #expect(error.sqlState == "22012")
            #expect(error.statement == "migration 0002_bad.sql")
            let tables = try connection.query(
                "SELECT to_regclass('ok') IS NOT NULL, to_regclass('half') IS NULL, to_regclass('later') IS NULL")
            let row = try #require(tables.first)
            #expect(try row.decode(Bool.self, at: 0) && row.decode(Bool.self, at: 1) && row.decode(Bool.self, at: 2))
            let recorded = try connection.query("SELECT count(*) FROM schema_migrations").first?.decode(
                Int64.self, at: 0)
            #expect(recorded == 1)
        }
    }

    @Test func badlyNamedMigrationFileIsNamedInTheError() throws {
        let directory = NSTemporaryDirectory() + "recon-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "SELECT 1".write(toFile: directory + "/first.sql", atomically: true, encoding: .utf8)
        let error = try #require(throws: MigrationError.self) { try Migration.load(directory: directory) }
        #expect(error.description.contains("first.sql"))
    }
}

/// Runs the built `recon`; throws with its output when it fails.
func runMigrate(_ arguments: [String]) throws -> String {
    let (status, output) = try runRecon(arguments)
    struct Failed: Error, CustomStringConvertible { var description: String }
    guard status == 0 else { throw Failed(description: "recon \(arguments.first ?? "") exited \(status): \(output)") }
    return output
}
