public import ReconPostgres

/// Applies migrations in version order, each in its own transaction, under an advisory lock, and
/// records them in `schema_migrations`. Several machines may run it at once: one applies, the
/// others wait for the lock and then find nothing left to do.
public struct MigrationRunner: Sendable {
    /// The advisory lock key: "RECONMIG" in ASCII, so it is recognisable in pg_locks.
    static let lockKey: Int64 = 0x5245_434F_4E4D_4947

    public var migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations }

    public struct Report: Sendable {
        /// Versions applied by this run.
        public var applied: [Migration] = []
        /// The highest version in the database after the run.
        public var currentVersion: Int = 0
        /// Versions in the database that this build does not know (a newer build migrated it).
        public var unknownVersions: [Int] = []
    }

    /// Migrates the database behind `connection` (which must not be in a transaction).
    public func migrate(_ connection: PGConnection) throws -> Report {
        try connection.query("SELECT pg_advisory_lock($1)", [MigrationRunner.lockKey], name: "migrations: lock")
        defer {
            _ = try? connection.query(
                "SELECT pg_advisory_unlock($1)", [MigrationRunner.lockKey], name: "migrations: unlock")
        }
        try connection.execute(
            script: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    int8        PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, name: "migrations: create schema_migrations")
        let rows = try connection.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version", name: "migrations: read")
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in rows.rows {
            applied[try row.decode(Int.self, at: 0)] = (try row.decode(String.self, at: 1), try row.decode(at: 2))
        }
        var report = Report()
        for migration in migrations {
            if let done = applied[migration.version] {
                guard done.checksum == migration.checksum else {
                    throw MigrationError(
                        "migration \(migration.name) differs from the one applied as \(done.name) "
                            + "(checksum \(done.checksum.prefix(12))… in the database, "
                            + "\(migration.checksum.prefix(12))… here); add a new migration instead of editing one")
                }
                continue
            }
            try connection.transaction(name: "migration \(migration.name)") { connection in
                try connection.execute(script: migration.sql, name: "migration \(migration.name)")
                try connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, migration.checksum], name: "migrations: record")
            }
            report.applied.append(migration)
        }
        let known = Set(migrations.map(\.version))
        report.unknownVersions = applied.keys.filter { !known.contains($0) }.sorted()
        report.currentVersion = max(migrations.last?.version ?? 0, applied.keys.max() ?? 0)
        return report
    }
}
