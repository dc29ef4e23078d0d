public import Foundation
import ReconBlocking
public import ReconEmbeddedPostgres
import ReconPostgres
import ReconStore
import Synchronization

/// The test process's throwaway PostgreSQL: one cluster, started on first use, with a fresh
/// database per test so tests can run in parallel. It goes away with the process (its watcher
/// stops it even if the test run crashes).
public enum TestPostgres {
    private static let sharedCluster = Task { try await EmbeddedPostgres.start() }
    private static let counter = Atomic<Int>(0)

    public static func cluster() async throws -> EmbeddedPostgres {
        try await sharedCluster.value
    }

    /// Creates an empty database with a unique name and returns its connection string.
    public static func freshDatabase(_ label: String = "test") async throws -> String {
        let cluster = try await cluster()
        let name = "\(label)_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        return try await BlockingExecutor.shared.run { try cluster.createDatabase(name) }
    }

    /// A fresh database with this build's migrations applied.
    public static func migratedDatabase(_ label: String = "test") async throws -> String {
        try await migrate(try await freshDatabase(label))
    }

    /// Applies this build's migrations to a database (of any cluster) and returns its connection string.
    @discardableResult
    public static func migrate(_ connectionString: String) async throws -> String {
        let migrations = try Migration.bundled()
        _ = try await BlockingExecutor.shared.run {
            let connection = try PGConnection(connectionString: connectionString)
            defer { connection.close() }
            return try MigrationRunner(migrations: migrations).migrate(connection).currentVersion
        }
        return connectionString
    }
}

/// Paths of the binaries this package builds, next to the test bundle.
public enum BuiltProducts {
    public static var directory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (executable as NSString).deletingLastPathComponent
    }

    public static var recon: String { directory + "/recon" }
}
