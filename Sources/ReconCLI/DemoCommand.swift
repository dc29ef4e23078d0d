import ArgumentParser
import ReconBlocking
import ReconEmbeddedPostgres
import ReconPostgres
import ReconStore

/// `recon demo`: the whole system on the embedded default, no setup needed.
///
/// For now it starts a private PostgreSQL cluster, migrates it and reports what it runs; the
/// reconciliation day is added as the job ledger, channels and matching land.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run Recon end to end on a private PostgreSQL cluster.")

    func run() async throws {
        print("starting a private PostgreSQL cluster…")
        try await EmbeddedPostgres.withCluster { cluster in try await demo(on: cluster) }
        print("demo finished; the cluster is stopped and removed")
    }

    private func demo(on cluster: EmbeddedPostgres) async throws {
        print("cluster: \(cluster.directory) (binaries: \(cluster.binDirectory))")
        let connectionString = cluster.connectionString()
        let report = try await runMigrations(connectionString: connectionString)
        let pool = PGPool(connectionString: connectionString, maxConnections: 2)
        defer { pool.close() }
        let version = try await pool.query("SELECT version()").first?.decode(String.self, at: 0) ?? "unknown"
        let tables = try await pool.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).first?.decode(Int64.self, at: 0) ?? 0
        print("server: \(version)")
        print("migrations applied: \(report.applied.map(\.name).joined(separator: ", "))")
        print("schema version \(report.currentVersion), \(tables) tables")
    }
}
