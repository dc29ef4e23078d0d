import Foundation
import ReconBillJobs
import ReconBills
import ReconCalendar
import ReconChannels
import ReconCore
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconTestSupport
import Testing

/// Staging a channel-day against a real cluster.
@Suite(.tags(.integration), .skippedWhenFast) struct StagedBillTests {
    static let day = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 22))
    static let otherDay = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 23))

    /// A staging by job `job`: `lines` payments of `amountFen` each, ids `J<job>-<n>`.
    static func staging(job: Int64, lines: Int, amountFen: Int64, day: LocalDay = day) -> StagedBill {
        let bill = DownloadedBill(
            path: "/nonexistent/job-\(job).csv", sha256: String(repeating: "0", count: 64), bytes: 0,
            fileExtension: "csv"
        ) { _, emit in
            var summary = BillSummary()
            for number in 1...lines {
                let line = BillLine(
                    channel: "bank-a", billDate: day, channelTransactionID: "J\(job)-\(number)", merchantOrderID: nil,
                    refundID: nil, kind: .payment, amountFen: amountFen, feeFen: 0, channelStatus: "SUCCESS",
                    timeMicroseconds: (Int64(day.dayNumber) * 86_400 + Int64(number)) * 1_000_000,
                    lineNumber: number + 1)
                try emit(line)
                summary.count(line)
            }
            return summary
        }
        return StagedBill(
            channel: "bank-a", day: day, bill: bill, keyRule: .sharedTransactionID, jobID: job, leaseToken: job,
            worker: "test")
    }

    /// Rows of a channel-day: count, Σ amount, and how many carry job `job`'s ids.
    static func staged(_ pool: PGPool, _ day: LocalDay, job: Int64) async throws -> (
        lines: Int64, amount: Int64, ofJob: Int64
    ) {
        let row = try #require(
            try await pool.query(
                """
                SELECT count(*)::int8, coalesce(sum(amount_fen), 0)::int8,
                       count(*) FILTER (WHERE channel_txn_id LIKE 'J' || $2::text || '-%')::int8
                FROM staged_bill_lines WHERE channel = 'bank-a' AND bill_date = $1
                """, [day.pgDate, job]
            ).first)
        return (try row.decode(Int64.self, at: 0), try row.decode(Int64.self, at: 1), try row.decode(Int64.self, at: 2))
    }

    /// Two fetches of one channel-day committing at once take turns on the advisory lock: the
    /// second waits for the first and then replaces its rows whole, so the day ends with the
    /// second's 30 rows, not 80 and not a blend. A staging of another day is not held up meanwhile.
    @Test func twoStagingsOfOneChannelDayTakeTurns() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("staging"), maxConnections: 5)
        defer { pool.close() }
        // An earlier fetch's rows, which both replace.
        let earlier = Self.staging(job: 1, lines: 10, amountFen: 500)
        try await pool.transaction { try earlier.write(on: $0) }

        let first = Self.staging(job: 2, lines: 50, amountFen: 100)
        let second = Self.staging(job: 3, lines: 30, amountFen: 7)
        let otherDay = Self.staging(job: 4, lines: 5, amountFen: 1, day: Self.otherDay)

        // The first stages everything, then keeps its transaction open until the gate opens.
        let gate = DispatchSemaphore(value: 0)
        let (staged, stagedSink) = AsyncStream.makeStream(of: Void.self)
        let holding = Task {
            try await pool.transaction { connection in
                defer { stagedSink.finish() }
                try first.write(on: connection)
                stagedSink.yield()
                gate.wait()
            }
        }
        var stagedEvents = staged.makeAsyncIterator()
        guard await stagedEvents.next() != nil else {
            try await holding.value
            return
        }

        let (backends, backendSink) = AsyncStream.makeStream(of: Int64.self)
        let competing = Task {
            try await pool.transaction { connection in
                defer { backendSink.finish() }
                backendSink.yield(
                    try connection.query("SELECT pg_backend_pid()::int8").first?.decode(Int64.self, at: 0) ?? 0)
                try second.write(on: connection)
            }
        }
        var backendEvents = backends.makeAsyncIterator()
        let backend = await backendEvents.next() ?? 0
        let secondWaited =
            (try? await eventually("the second staging waits for a lock", timeout: .seconds(20)) {
                try await pool.query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [backend])
                    .first?.decode(String?.self, at: 0) == "Lock"
            }) != nil
        #expect(secondWaited, "the second staging ran while the first held the channel-day")

        let otherStaging = Task { try await pool.transaction { try otherDay.write(on: $0) } }
        let otherDayCommitted =
            (try? await eventually("another day's staging commits", timeout: .seconds(20)) {
                try await Self.staged(pool, Self.otherDay, job: 4).lines == 5
            }) != nil
        #expect(otherDayCommitted, "a staging of another day waited for this one's lock")

        gate.signal()
        try await holding.value
        try await competing.value
        try await otherStaging.value

        let result = try await Self.staged(pool, Self.day, job: 3)
        #expect(result.lines == 30 && result.amount == 30 * 7 && result.ofJob == 30, "\(result)")
        let fetch = try #require(
            try await pool.query(
                "SELECT job_id, lines FROM bill_fetches WHERE channel = 'bank-a' AND bill_date = $1", [Self.day.pgDate]
            ).first)
        #expect(try fetch.decode(Int64.self, at: 0) == 3)
        #expect(try fetch.decode(Int64.self, at: 1) == 30)
    }

    /// Each line is staged with what it meets its leg on: the key's refund part under the
    /// channel's rule (a UnionPay refund by its own queryId alone), the shard hash, and the payment
    /// it refunds.
    @Test(arguments: [(KeyRule.sharedTransactionID, "RF1"), (KeyRule.ownTransactionID, "")])
    func linesCarryTheirMatchKey(rule: KeyRule, refundKey: String) async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("stagekey"), maxConnections: 1)
        defer { pool.close() }
        let bill = DownloadedBill(
            path: "/nonexistent/keys.csv", sha256: String(repeating: "0", count: 64), bytes: 0, fileExtension: "csv"
        ) { _, emit in
            var summary = BillSummary()
            let refund = BillLine(
                channel: "bank-a", billDate: Self.day, channelTransactionID: "REFUND-OWN",
                originalTransactionID: "PAY-1",
                merchantOrderID: nil, refundID: "RF1", kind: .refund, amountFen: -100, feeFen: -1,
                channelStatus: nil, timeMicroseconds: Int64(Self.day.dayNumber) * 86_400_000_000, lineNumber: 2)
            try emit(refund)
            summary.count(refund)
            return summary
        }
        let staging = StagedBill(
            channel: "bank-a", day: Self.day, bill: bill, keyRule: rule, jobID: 1, leaseToken: 1, worker: "test")
        try await pool.transaction { try staging.write(on: $0) }
        let row = try #require(
            try await pool.query("SELECT match_refund_key, key_hash, original_txn_id FROM staged_bill_lines").first)
        #expect(try row.decode(String.self, at: 0) == refundKey)
        #expect(try row.decode(Int64.self, at: 1) == MatchKey.keyHash("REFUND-OWN"))
        #expect(try row.decode(String.self, at: 2) == "PAY-1")
    }

    /// A bill that contradicts its own totals is refused for good (`ChannelError.permanent`: the
    /// job is dead at once); any other refusal, which a damaged download could cause, retryably.
    /// Either way nothing of it is staged and the earlier rows stay.
    @Test(arguments: [true, false])
    func aRefusedBillStagesNothingAndSaysWhetherAnotherDownloadCanHelp(contradictsItsTotals: Bool) async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("refused"), maxConnections: 2)
        defer { pool.close() }
        let earlier = Self.staging(job: 1, lines: 10, amountFen: 500)
        try await pool.transaction { try earlier.write(on: $0) }
        let refusal = BillError(
            file: "bank/20261122.csv", line: 42, column: "sum", check: "trailer", reason: "the lines add up to 30.00",
            contradictsItsTotals: contradictsItsTotals)
        let bill = DownloadedBill(
            path: "/nonexistent/refused.csv", sha256: String(repeating: "0", count: 64), bytes: 0, fileExtension: "csv"
        ) { _, emit in
            for number in 1...40 {
                try emit(
                    BillLine(
                        channel: "bank-a", billDate: Self.day, channelTransactionID: "R\(number)", merchantOrderID: nil,
                        refundID: nil, kind: .payment, amountFen: 1, feeFen: 0, channelStatus: "SUCCESS",
                        timeMicroseconds: Int64(Self.day.dayNumber) * 86_400_000_000, lineNumber: number + 1))
            }
            throw refusal
        }
        let staging = StagedBill(
            channel: "bank-a", day: Self.day, bill: bill, keyRule: .sharedTransactionID, jobID: 2, leaseToken: 2,
            worker: "test")
        let error = await #expect(throws: ChannelError.self) {
            try await pool.transaction { try staging.write(on: $0) }
        }
        switch error {
        case .permanent(let message)?:
            #expect(contradictsItsTotals, "\(message)")
            #expect(message.contains("nothing staged") && message.contains("bank/20261122.csv:42"))
        case .transient(let message, _)?:
            #expect(!contradictsItsTotals, "\(message)")
            #expect(message.contains("nothing staged"))
        case nil:
            Issue.record("the staging did not fail")
        }
        let kept = try await Self.staged(pool, Self.day, job: 1)
        #expect(kept.lines == 10 && kept.ofJob == 10)
    }
}
