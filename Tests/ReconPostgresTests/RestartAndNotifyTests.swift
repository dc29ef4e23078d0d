import ReconBlocking
import ReconEmbeddedPostgres
import ReconPostgres
import ReconTestSupport
import Testing

/// These restart their own cluster, so they get one of their own.
@Suite(.tags(.integration), .skippedWhenFast) struct RestartAndNotifyTests {
    @Test func poolSurvivesServerRestart() async throws {
        try await EmbeddedPostgres.withCluster { cluster in try await poolSurvivesServerRestart(cluster) }
    }

    private func poolSurvivesServerRestart(_ cluster: EmbeddedPostgres) async throws {
        let pool = PGPool(connectionString: cluster.connectionString(), maxConnections: 2)
        defer { pool.close() }
        let before = try await pool.query("SELECT pg_backend_pid()").first?.decode(Int32.self, at: 0)
        try await BlockingExecutor.shared.run { try cluster.restart() }
        // The first statement after the restart succeeds, on a new backend.
        let after = try await pool.query("SELECT pg_backend_pid()").first?.decode(Int32.self, at: 0)
        #expect(after != nil)
        #expect(after != before)
    }

    @Test func listenerReceivesNotifyAndReconnectsAfterRestart() async throws {
        try await EmbeddedPostgres.withCluster { cluster in try await listenerReconnects(cluster) }
    }

    private func listenerReconnects(_ cluster: EmbeddedPostgres) async throws {
        let pool = PGPool(connectionString: cluster.connectionString(), maxConnections: 1)
        defer { pool.close() }
        let listener = PGListener(connectionString: cluster.connectionString(), channels: ["recon_jobs"])
        defer { listener.stop() }
        var events = listener.events.makeAsyncIterator()
        #expect(await events.next() == .listening(reconnected: false))

        try await pool.withConnection { connection in try connection.notify("recon_jobs", payload: "reconcile") }
        guard case .notification(let first)? = await events.next() else {
            Issue.record("expected a notification")
            return
        }
        #expect(first.channel == "recon_jobs")
        #expect(first.payload == "reconcile")

        try await BlockingExecutor.shared.run { try cluster.restart() }
        #expect(await events.next() == .listening(reconnected: true))
        try await pool.withConnection { connection in
            try connection.transaction { connection in try connection.notify("recon_jobs", payload: "after") }
        }
        guard case .notification(let second)? = await events.next() else {
            Issue.record("expected a notification after the restart")
            return
        }
        #expect(second.payload == "after")
    }
}
