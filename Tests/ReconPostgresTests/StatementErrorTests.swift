import ReconPostgres
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast) struct StatementErrorTests {
    @Test func uniqueViolationCarriesSQLStateButNotParameters() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("unique"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query("CREATE TABLE k (key text PRIMARY KEY, secret text)")
        try await pool.query("INSERT INTO k VALUES ($1, $2)", ["job:1", "s3cr3t-token-value"])
        let error = try await #require(throws: PGError.self) {
            try await pool.query("INSERT INTO k VALUES ($1, $2)", ["job:1", "s3cr3t-token-value"], name: "enqueue")
        }
        #expect(error.code == .serverError)
        #expect(error.sqlState == "23505")
        #expect(error.statement == "enqueue")
        #expect(error.detail?.contains("job:1") == true)
        #expect(!error.description.contains("s3cr3t-token-value"))
    }

    @Test func rollbackOnThrowLeavesNothingBehind() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("rollback"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query("CREATE TABLE r (n int8)")
        struct Abandon: Error {}
        await #expect(throws: Abandon.self) {
            try await pool.transaction { connection in
                try connection.query("INSERT INTO r VALUES (1), (2), (3)")
                #expect(try connection.query("SELECT count(*) FROM r").first?.decode(Int64.self, at: 0) == 3)
                throw Abandon()
            }
        }
        #expect(try await pool.query("SELECT count(*) FROM r").first?.decode(Int64.self, at: 0) == 0)
        // The connection went back to the pool clean: a new transaction commits normally.
        _ = try await pool.transaction { connection in try connection.query("INSERT INTO r VALUES (4)") }
        #expect(try await pool.query("SELECT sum(n) FROM r").first?.decode(PGNumeric.self, at: 0).text == "4")
    }

    @Test func aFailedStatementInsideATransactionRollsBackTheEarlierOnes() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("txfail"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query("CREATE TABLE r (n int8 PRIMARY KEY)")
        let error = try await #require(throws: PGError.self) {
            try await pool.transaction { connection in
                try connection.query("INSERT INTO r VALUES (1)")
                try connection.query("INSERT INTO r VALUES (1)", name: "duplicate")
            }
        }
        #expect(error.sqlState == "23505")
        #expect(try await pool.query("SELECT count(*) FROM r").first?.decode(Int64.self, at: 0) == 0)
    }

    @Test func connectingToNothingIsAConnectionFailure() async throws {
        let error = try #require(throws: PGError.self) {
            try PGConnection(connectionString: "host=/tmp/recon-no-such-dir port=5432 dbname=x password=hunter2")
        }
        #expect(error.code == .connectionFailed)
        #expect(error.isConnectionFailure)
        #expect(!error.description.contains("hunter2"))
    }

    @Test func manyTasksShareAFewConnections() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("pool"), maxConnections: 3)
        defer { pool.close() }
        let sum = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 1...60 {
                group.addTask {
                    try await pool.query("SELECT $1::int8 + 0 * pg_backend_pid()", [Int64(index)]).first?
                        .decode(Int64.self, at: 0) ?? 0
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == 60 * 61 / 2)
        let backends = try await pool.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        ).first?.decode(Int64.self, at: 0)
        #expect(backends ?? 0 <= 3)
    }
}

@Suite(.tags(.integration), .skippedWhenFast) struct MisuseTests {
    @Test func aSwallowedErrorMakesTheTransactionFailInsteadOfCommittingNothing() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("swallow"), maxConnections: 1)
        defer { pool.close() }
        try await pool.query("CREATE TABLE ledger (n int8 PRIMARY KEY)")
        let error = try await #require(throws: PGError.self) {
            try await pool.transaction(name: "post ledger") { connection in
                try connection.query("INSERT INTO ledger VALUES (1)")
                _ = try? connection.query("INSERT INTO ledger VALUES (1)")
            }
        }
        #expect(error.code == .misuse)
        #expect(error.statement == "post ledger")
        #expect(try await pool.query("SELECT count(*) FROM ledger").first?.decode(Int64.self, at: 0) == 0)
    }

    @Test func aNulInATextParameterIsRefusedNotCut() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("nul"), maxConnections: 1)
        defer { pool.close() }
        let error = try await #require(throws: PGError.self) { try await pool.query("SELECT $1::text", ["abc\0def"]) }
        #expect(error.message.contains("$1"))
    }

    @Test func aMalformedConnectionStringDoesNotEchoThePassword() throws {
        for text in ["postgresql://u:p%zzs3cr3t@localhost/db", "host=/tmp password=s3cr3t words"] {
            let error = try #require(throws: PGError.self) { try PGConnection(connectionString: text) }
            #expect(error.code == .connectionFailed)
            #expect(!error.description.contains("s3cr3t"))
        }
    }

    @Test func aCopyStartedThroughQueryIsEndedAndTheConnectionStaysUsable() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("copymisuse"), maxConnections: 1)
        defer { pool.close() }
        let pid = try await pool.withConnection { connection -> Int32? in
            try connection.execute(script: "CREATE TABLE t (n int)")
            #expect(throws: PGError.self) { try connection.query("COPY t FROM STDIN") }
            #expect(throws: PGError.self) { try connection.copyIn("COPY t TO STDOUT") { _ in } }
            #expect(throws: PGError.self) { try connection.copyOut("COPY t FROM STDIN") { _ in } }
            return try connection.query("SELECT pg_backend_pid()").first?.decode(Int32.self, at: 0)
        }
        // Same backend afterwards: the connection was not thrown away.
        #expect(try await pool.query("SELECT pg_backend_pid()").first?.decode(Int32.self, at: 0) == pid)
    }

    @Test func columnsAreFoundByTheirExactName() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("names"), maxConnections: 1)
        defer { pool.close() }
        let row = try #require(try await pool.query(#"SELECT 5::int8 AS "totalFen", 6::int8 AS totalfen"#).first)
        #expect(try row.decode(Int64.self, named: "totalFen") == 5)
        #expect(try row.decode(Int64.self, named: "totalfen") == 6)
    }
}
