import Foundation
import ReconCore
import ReconMatching
import ReconPostgres
import ReconReconcile
import ReconTestSupport
import Testing

/// The day's reconciliation against a real cluster, driven step by step as the job kinds drive
/// it (decide on one connection, commit in a transaction, finalize, virtual check, settle): every
/// status of issue 12 §3 on a hand-made Alipay day, cross-day carry-over in both orders, and reruns.
@Suite(.serialized) struct ReconcileDayTests {
    static let day = LocalDay("2026-11-23") ?? LocalDay(dayNumber: 0)
    static let next = day.adding(days: 1)
    static let zone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 28_800) ?? .gmt

    /// A leg of the payments file, with the status the rules must give it on its bill day.
    struct Leg {
        var id: String, order: String, system = "mall", merchant = "M1", kind = "channel", txn: String
        var refund = "", direction = "payment", amount: String, fee = "0.00", status = "success"
        var at: String
        var expected: MatchStatus
        var expectedNextDay: MatchStatus? = nil
    }

    /// A bill line as staging writes it: signed fen, normalized fee.
    struct Line {
        var txn: String, refund = "", amountFen: Int64, feeFen: Int64, status: String? = nil
        var at: String
        var day: LocalDay = ReconcileDayTests.day
    }

    static let legs: [Leg] = [
        Leg(
            id: "L1", order: "O1", txn: "P1", amount: "100.00", fee: "0.60", at: "2026-11-23T10:00:00+08:00",
            expected: .matched),
        Leg(
            id: "L2", order: "O2", txn: "P2", amount: "50.00", fee: "0.30", at: "2026-11-23T10:01:00+08:00",
            expected: .amountMismatch),
        Leg(
            id: "L3", order: "O3", txn: "P3", amount: "20.00", fee: "0.12", status: "failed",
            at: "2026-11-23T10:02:00+08:00", expected: .statusMismatch),
        Leg(
            id: "L4", order: "O4", txn: "P4", amount: "30.00", fee: "0.18", at: "2026-11-23T10:03:00+08:00",
            expected: .feeMismatch),
        Leg(id: "L6", order: "O6", txn: "P6", amount: "8.00", at: "2026-11-23T11:00:00+08:00", expected: .internalOnly),
        Leg(
            id: "L7", order: "O7", txn: "P7", amount: "9.00", status: "pending", at: "2026-11-23T11:01:00+08:00",
            expected: .internalOnly),
        Leg(
            id: "L8", order: "O8", txn: "P8", amount: "7.00", status: "closed", at: "2026-11-23T11:02:00+08:00",
            expected: .matched),
        Leg(
            id: "L9", order: "O1", txn: "P1", refund: "RF1", direction: "refund", amount: "10.00", fee: "0.06",
            at: "2026-11-23T15:00:00+08:00", expected: .matched),
        // 23:58: the channel bills it on the 24th, at 00:01.
        Leg(
            id: "L10", order: "O10", txn: "P10", amount: "15.00", fee: "0.09", at: "2026-11-23T23:58:00+08:00",
            expected: .carriedOver, expectedNextDay: .matched),
        // 23:57: on neither bill.
        Leg(
            id: "L11", order: "O11", txn: "P11", amount: "5.00", at: "2026-11-23T23:57:00+08:00",
            expected: .carriedOver, expectedNextDay: .internalOnly),
        Leg(
            id: "L13", order: "O13", system: "billing", merchant: "M2", txn: "P13", amount: "40.00", fee: "0.24",
            at: "2026-11-24T09:00:00+08:00", expected: .matched),
    ]

    static let lines: [Line] = [
        Line(txn: "P1", amountFen: 10_000, feeFen: 60, at: "2026-11-23T10:00:03+08:00"),
        Line(txn: "P2", amountFen: 5_001, feeFen: 30, at: "2026-11-23T10:01:03+08:00"),
        Line(txn: "P3", amountFen: 2_000, feeFen: 12, at: "2026-11-23T10:02:03+08:00"),
        Line(txn: "P4", amountFen: 3_000, feeFen: 20, at: "2026-11-23T10:03:03+08:00"),
        Line(txn: "P5", amountFen: 1_200, feeFen: 7, at: "2026-11-23T13:00:00+08:00"),  // channel_only
        Line(txn: "P1", refund: "RF1", amountFen: -1_000, feeFen: -6, at: "2026-11-23T15:00:02+08:00"),
        // 00:02 of the 23rd with no leg anywhere: carried_over, then channel_only on the 24th.
        Line(txn: "P12", amountFen: 300, feeFen: 2, at: "2026-11-23T00:02:00+08:00"),
        Line(txn: "P10", amountFen: 1_500, feeFen: 9, at: "2026-11-24T00:01:00+08:00", day: next),
        Line(txn: "P13", amountFen: 4_000, feeFen: 24, at: "2026-11-24T09:00:01+08:00", day: next),
    ]

    static let virtualLegs = """
        O1,L20,mall,M1,pre_deposit,,,,payment,20.00,,success,2026-11-23T10:00:00+08:00
        O1,L21,mall,M1,points,,,,payment,10.00,,success,2026-11-23T10:00:00+08:00
        O22,L22,mall,M1,pre_deposit,,,,payment,5.00,,success,2026-11-23T12:00:00+08:00
        O23,L23,mall,M1,points,,,,payment,2.00,,failed,2026-11-23T12:00:00+08:00
        """
    static let ledger = """
        entry_id,account_id,asset,leg_id,amount,occurred_at
        E1,A1,pre_deposit,L20,20.00,2026-11-23T10:00:00+08:00
        E2,A1,points,L21,9.00,2026-11-23T10:00:00+08:00
        E3,A2,pre_deposit,LX,3.00,2026-11-23T12:30:00+08:00
        E4,A3,points,L23,2.00,2026-11-23T12:00:00+08:00
        """

    /// A database with the legs, ledger and both days' staged lines.
    static func database() async throws -> PGPool {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("reconcile-day"), maxConnections: 2)
        var payments =
            "order_id,leg_id,business_system,merchant_id,leg_kind,channel,channel_txn_id,refund_id,direction,amount,fee,status,occurred_at\n"
        for leg in legs {
            payments +=
                "\(leg.order),\(leg.id),\(leg.system),\(leg.merchant),\(leg.kind),alipay,\(leg.txn),\(leg.refund),"
                + "\(leg.direction),\(leg.amount),\(leg.fee),\(leg.status),\(leg.at)\n"
        }
        payments += virtualLegs + "\n"
        let paymentsPath = try write(payments), ledgerPath = try write(ledger + "\n")
        _ = try await pool.transaction(name: "import") { connection in
            _ = try RecordImporter.importPayments(
                ImportInput(path: paymentsPath),
                channels: ["alipay": .init(rule: .sharedTransactionID, timeZone: zone)], on: connection)
            return try RecordImporter.importLedger(ImportInput(path: ledgerPath), on: connection)
        }
        for (number, line) in lines.enumerated() {
            let key = MatchKey(transactionID: line.txn, refundID: line.refund)
            _ = try await pool.query(
                """
                INSERT INTO staged_bill_lines (channel, bill_date, line_no, channel_txn_id, original_txn_id,
                    match_refund_key, key_hash, refund_id, kind, amount_fen, fee_fen, channel_status, txn_time)
                VALUES ('alipay', $1::date, $2, $3, $3, $4, $5, nullif($4, ''), $6, $7, $8, $9, $10::timestamptz)
                """,
                [
                    line.day.description, Int64(number + 2), line.txn, line.refund, key.keyHash,
                    line.amountFen < 0 ? "refund" : "payment", line.amountFen, line.feeFen, line.status, line.at,
                ])
        }
        return pool
    }

    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("recon-day-\(UUID()).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every shard of the channel-day decided and committed, then finalized; returns the next
    /// day's shards the finalize found stale.
    @discardableResult
    static func reconcile(_ day: LocalDay, shards: Int = 2, _ pool: PGPool) async throws -> [ShardRange] {
        for shard in 0..<shards {
            let task = ShardTask(
                channel: "alipay", day: day, range: ShardRange(shard: shard, of: shards), timeZone: zone,
                windowMilliseconds: 5 * 60_000)
            let spool = FileManager.default.temporaryDirectory.appendingPathComponent("recon-spool-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: spool) }
            let decided = try await pool.withConnection { try ShardReconciler.decide(task, spoolPath: spool, on: $0) }
            try await pool.transaction(name: "commit") { try ShardReconciler.commit(decided, jobID: 1, on: $0) }
        }
        return try await pool.transaction(name: "finalize") {
            try ChannelDayFinalizer.finalize(channel: "alipay", day: day, shards: shards, jobID: 2, on: $0)
        }.staleNextDayShards
    }

    static func checkVirtualAndSettle(_ day: LocalDay, folder: String, _ pool: PGPool) async throws
        -> DaySettler.Outcome
    {
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("recon-vspool-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let decided = try await pool.withConnection { try VirtualReconciler.decide(day: day, spoolPath: spool, on: $0) }
        try await pool.transaction(name: "virtual") { try VirtualReconciler.commit(decided, jobID: 3, on: $0) }
        return try await pool.transaction(name: "settle") {
            try DaySettler.settle(day: day, channels: ["alipay"], folder: folder, jobID: 4, on: $0)
        }
    }

    /// The results table as text, without ids or times: what two orders of work must agree on.
    static func resultRows(_ pool: PGPool) async throws -> [String] {
        try await pool.query(
            """
            SELECT concat_ws(' ', bill_date, channel_txn_id, match_refund_key, lane, status, carried_from, line_no,
                             channel_amount_fen, leg_id, internal_amount_fen, resolved_on, resolved_status)
            FROM recon_results ORDER BY bill_date, channel_txn_id, match_refund_key, lane
            """
        ).rows.map { try $0.decode(String.self, at: 0) }
    }

    /// Issue 14: report rows whose ids would run as a spreadsheet formula (`=`, `+`, `-`, `@`) are
    /// written with a leading `'`; amounts stay plain numbers.
    @Test func reportRowsNeutralizeFieldsThatLookLikeFormulas() throws {
        let channel = try JSONDecoder().decode(
            DayReport.ChannelRow.self,
            from: Data(
                #"""
                {"id":1,"channel":"-bank","billDate":"2026-11-23","channelTxnID":"=1+2","refundKey":"","lane":0,
                 "legID":"@SUM(A1)","status":"amount_mismatch","channelAmountFen":-500,"internalAmountFen":500}
                """#.utf8))
        #expect(DayReport.csv(channel) == "'-bank,2026-11-23,'=1+2,'@SUM(A1),amount_mismatch,-5.00,5.00")
        let virtual = try JSONDecoder().decode(
            DayReport.VirtualRow.self,
            from: Data(
                #"""
                {"id":2,"asset":"points","billDate":"2026-11-23","legID":"+L1","entryID":"-E1,2","status":"matched",
                 "ledgerAmountFen":100,"internalAmountFen":100}
                """#.utf8))
        #expect(DayReport.csv(virtual) == "points,2026-11-23,'+L1,\"'-E1,2\",matched,1.00,1.00")
    }

    @Test(.tags(.integration)) func everyStatusOfTheDayAndTheNextDayPairsTheCarriedLeg() async throws {
        let pool = try await Self.database()
        defer { pool.close() }
        try await Self.reconcile(Self.day, pool)
        let dayRows = try await pool.withConnection {
            try DayReport.channelRows(day: Self.day, filter: .init(), on: $0)
        }
        var byLeg: [String: String] = [:]
        for row in dayRows { if let leg = row.legID { byLeg[leg] = row.status } }
        for leg in Self.legs where leg.at.hasPrefix("2026-11-23") {
            #expect(byLeg[leg.id] == leg.expected.rawValue, "leg \(leg.id)")
        }
        let lineOnly = dayRows.filter { $0.legID == nil }.map { "\($0.channelTxnID) \($0.status)" }
        #expect(lineOnly.sorted() == ["P12 carried_over", "P5 channel_only"])
        #expect(dayRows.count == 12)

        try await Self.reconcile(Self.next, pool)
        let nextRows = try await pool.withConnection {
            try DayReport.channelRows(day: Self.next, filter: .init(), on: $0)
        }
        let nextStatus = Dictionary(nextRows.map { ("\($0.channelTxnID) \($0.legID ?? "-")", $0.status) }) { a, _ in a }
        #expect(
            nextStatus == [
                "P10 L10": "matched", "P11 L11": "internal_only", "P12 -": "channel_only", "P13 L13": "matched",
            ])
        #expect(nextRows.first { $0.legID == "L10" }?.carriedFrom == "2026-11-23")
        // The 23rd keeps carried_over, and says where each was resolved.
        let resolved = try await pool.withConnection {
            try DayReport.channelRows(day: Self.day, filter: .init(status: .carriedOver), on: $0)
        }
        #expect(
            resolved.map { "\($0.channelTxnID) \($0.resolvedOn ?? "-") \($0.resolvedStatus ?? "-")" }.sorted() == [
                "P10 2026-11-24 matched", "P11 2026-11-24 internal_only", "P12 2026-11-24 channel_only",
            ])
    }

    /// PostgreSQL computes the same key hash as Swift (migrations recompute stored ones with it).
    @Test(.tags(.integration)) func theServerComputesTheSameKeyHash() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.freshDatabase("key-hash"), maxConnections: 1)
        defer { pool.close() }
        for id in ["", "a", "2026112322001400000000000123", "微信订单", "e\u{301}"] {
            let server = try await pool.query("SELECT \(KeyHashSQL.of("$1::text"))", [id]).first?.decode(
                Int64.self, at: 0)
            #expect(server == MatchKey.keyHash(id), "\(id)")
        }
    }

    @Test(.tags(.integration)) func theNextDayFirstEndsAsInOrder() async throws {
        let inOrder = try await Self.database()
        defer { inOrder.close() }
        #expect(try await Self.reconcile(Self.day, inOrder).isEmpty)
        #expect(try await Self.reconcile(Self.next, inOrder).isEmpty)

        let outOfOrder = try await Self.database()
        defer { outOfOrder.close() }
        #expect(try await Self.reconcile(Self.next, outOfOrder).isEmpty)
        // The 24th read nothing carried from the 23rd; the 23rd's finalize finds both of its shards
        // stale (they read another carried-over state), and they run again.
        let stale = try await Self.reconcile(Self.day, outOfOrder)
        #expect(!stale.isEmpty)
        try await Self.reconcile(Self.next, outOfOrder)
        #expect(try await Self.resultRows(outOfOrder) == (try await Self.resultRows(inOrder)))
        // Nothing is stale any more.
        #expect(try await Self.reconcile(Self.day, outOfOrder).isEmpty)
    }

    @Test(.tags(.integration)) func virtualAccountsAndTheSettlementAgreeWithAnIndependentSum() async throws {
        let pool = try await Self.database()
        defer { pool.close() }
        try await Self.reconcile(Self.day, pool)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recon-settle-\(UUID())").path
        let outcome = try await Self.checkVirtualAndSettle(Self.day, folder: folder, pool)
        let virtual = try await pool.withConnection {
            try DayReport.virtualRows(day: Self.day, filter: .init(), on: $0)
        }
        #expect(
            virtual.map { "\($0.legID) \($0.entryID) \($0.status)" } == [
                "L20 E1 matched", "L21 E2 amount_mismatch", "L22  internal_only", "L23 E4 status_mismatch",
                "LX E3 channel_only",
            ])
        // Independently: each leg the rules match that succeeded, summed by owner.
        var expected: [SettlementKey: SettlementTotals] = [:]
        for leg in Self.legs where leg.at.hasPrefix("2026-11-23") && leg.expected == .matched && leg.status == "success"
        {
            let amount = try Money.fen(fromYuan: leg.amount), fee = try Money.fen(fromYuan: leg.fee)
            let sign: Int64 = leg.direction == "refund" ? -1 : 1
            expected[
                SettlementKey(businessSystem: leg.system, merchantID: leg.merchant, channel: "alipay"), default: .init()
            ]
            .add(amountFen: sign * amount, feeFen: sign * fee)
        }
        expected[SettlementKey(businessSystem: "mall", merchantID: "M1", channel: "pre_deposit"), default: .init()]
            .add(amountFen: 2_000, feeFen: 0)
        #expect(outcome.rows == expected)
        let file = try String(contentsOfFile: "\(folder)/settlement-2026-11-23.csv", encoding: .utf8)
        #expect(file == SettlementCSV.text(expected))
        #expect(
            file.hasPrefix(
                "business_system,merchant_id,channel,count,gross,refunds,fees,net\nmall,M1,alipay,2,100.00,10.00,0.54,89.46\n"
            ))
    }

    @Test(.tags(.integration)) func aRerunLeavesTheSameRowsAndTheSameSettlementBytes() async throws {
        let pool = try await Self.database()
        defer { pool.close() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recon-rerun-\(UUID())").path
        try await Self.reconcile(Self.day, pool)
        _ = try await Self.checkVirtualAndSettle(Self.day, folder: folder, pool)
        let rows = try await Self.resultRows(pool)
        let ids = try await pool.query("SELECT array_agg(id ORDER BY id)::text FROM recon_results").first?.decode(
            String.self, at: 0)
        let file = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/settlement-2026-11-23.csv"))
        try await Self.reconcile(Self.day, shards: 3, pool)
        _ = try await Self.checkVirtualAndSettle(Self.day, folder: folder, pool)
        #expect(try await Self.resultRows(pool) == rows)
        // Rows are updated in place, so discrepancy ids (and their resolutions) stay.
        #expect(
            try await pool.query("SELECT array_agg(id ORDER BY id)::text FROM recon_results").first?.decode(
                String.self, at: 0) == ids)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/settlement-2026-11-23.csv")) == file)
    }

    /// A bill that repeats a key is refused, for good, naming both of its lines and its file.
    @Test(.tags(.integration)) func aKeyTwiceOnTheBillIsRefusedNamingBothLines() async throws {
        let pool = try await Self.database()
        defer { pool.close() }
        let key = MatchKey(transactionID: "P2")
        _ = try await pool.query(
            """
            INSERT INTO staged_bill_lines (channel, bill_date, line_no, channel_txn_id, match_refund_key, key_hash, kind,
                amount_fen, fee_fen, txn_time)
            VALUES ('alipay', '2026-11-23', 99, 'P2', '', $1, 'payment', 5001, 30, '2026-11-23T10:09:00+08:00')
            """, [key.keyHash])
        // The fetch that staged it, with the file it kept.
        _ = try await pool.query(
            """
            INSERT INTO bill_fetches (channel, bill_date, outcome, archive_path, lines, payments, refunds, amount_fen,
                fee_fen)
            VALUES ('alipay', '2026-11-23', 'ready', '/archive/alipay/ab12.csv.zip', 99, 99, 0, 0, 0)
            """)
        do {
            try await Self.reconcile(Self.day, shards: 1, pool)
            Issue.record("a bill with a key twice was reconciled")
        } catch let error as ReconcileError {
            #expect(!error.retryable)
            #expect(
                error.description.contains(
                    "key P2 is on the bill twice: lines 3 and 99 of /archive/alipay/ab12.csv.zip"),
                "\(error)")
        }
        #expect(try await pool.query("SELECT count(*) FROM recon_results").first?.decode(Int64.self, at: 0) == 0)
    }

    @Test(.tags(.integration)) func aResolutionIsKeptAndSurvivesARerun() async throws {
        let pool = try await Self.database()
        defer { pool.close() }
        try await Self.reconcile(Self.day, pool)
        let open = try await pool.withConnection { connection in
            var filter = DayReport.Filter(status: .channelOnly)
            filter.discrepanciesOnly = true
            return try DayReport.channelRows(day: Self.day, filter: filter, on: connection)
        }
        let p5 = try #require(open.first { $0.channelTxnID == "P5" })
        _ = try await pool.withConnection {
            try DayReport.resolve(id: "c\(p5.id)", note: "refunded by hand", by: "li.wei", on: $0)
        }
        try await Self.reconcile(Self.day, pool)
        let after = try await pool.withConnection { connection in
            var filter = DayReport.Filter()
            filter.discrepanciesOnly = true
            filter.openOnly = true
            return try DayReport.channelRows(day: Self.day, filter: filter, on: connection)
        }
        #expect(!after.contains { $0.channelTxnID == "P5" })
        let discrepancies = try await pool.withConnection { connection in
            var filter = DayReport.Filter()
            filter.discrepanciesOnly = true
            return try DayReport.channelRows(day: Self.day, filter: filter, on: connection)
        }
        #expect(after.count == discrepancies.count - 1)
        let all = try await pool.withConnection {
            try DayReport.channelRows(day: Self.day, filter: .init(status: .channelOnly), on: $0)
        }
        #expect(all.first { $0.channelTxnID == "P5" }?.resolution?.by == "li.wei")
        #expect(all.first { $0.channelTxnID == "P5" }?.resolution?.note == "refunded by hand")
        // A matched item or an unknown id cannot be resolved.
        await #expect(throws: ReconcileError.self) {
            _ = try await pool.withConnection { try DayReport.resolve(id: "c999999", note: "x", by: "y", on: $0) }
        }
    }
}
