import ReconMatching
import ReconRecords
import Testing

@Suite struct PaymentsFileTests {
    static let file = PaymentsFile(channels: ["alipay": .sharedTransactionID, "unionpay": .ownTransactionID])

    static func fields(_ line: String) -> [[UInt8]] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    static func parse(_ line: String) throws(RecordProblem) -> PaymentLegRecord {
        try file.record(fields(line), line: 7)
    }

    @Test func theHeaderIsExactlyTheContract() throws {
        try PaymentsFile.checkHeader(
            Self.fields(
                "order_id,leg_id,business_system,merchant_id,leg_kind,channel,channel_txn_id,refund_id,direction,amount,fee,status,occurred_at"
            ), line: 1)
        let bom =
            [[0xEF, 0xBB, 0xBF] + Array("order_id".utf8)]
            + Self.fields(PaymentsFile.header.joined(separator: ","))
            .dropFirst()
        try PaymentsFile.checkHeader(Array(bom), line: 1)
        #expect(throws: RecordProblem.self) {
            try PaymentsFile.checkHeader(Self.fields("order_id,leg_id"), line: 1)
        }
        do {
            try PaymentsFile.checkHeader(
                Self.fields(
                    "order_id,leg_id,business_system,merchant_id,leg_kind,channel,txn_id,refund_id,direction,amount,fee,status,occurred_at"
                ), line: 1)
            Issue.record("a wrong header was accepted")
        } catch {
            #expect(error.description.contains("missing channel_txn_id; unknown txn_id"), "\(error)")
        }
    }

    @Test func aCombinationPaymentsLegsParseSignedAndKeyed() throws {
        let alipay = try Self.parse(
            "O1,L1,mall,M1,channel,alipay,2026112322000001,,payment,50.00,0.30,success,2026-11-23T09:15:07+08:00")
        #expect(alipay.amountFen == 5000 && alipay.feeFen == 30 && alipay.channel == "alipay")
        #expect(alipay.key == MatchKey(transactionID: "2026112322000001"))
        let points = try Self.parse("O1,L2,mall,M1,points,,,,payment,10.00,,success,2026-11-23T09:15:07+08:00")
        #expect(points.kind == .points && points.channel == nil && points.key == nil && points.feeFen == 0)
        let refund = try Self.parse(
            "O1,L3,mall,M1,channel,alipay,2026112322000001,RF1,refund,20.00,0.12,success,2026-11-23T17:40:11+08:00")
        #expect(refund.amountFen == -2000 && refund.feeFen == -12)
        #expect(refund.key == MatchKey(transactionID: "2026112322000001", refundID: "RF1"))
        let unionRefund = try Self.parse(
            "O2,L4,mall,M1,channel,unionpay,Q-REFUND,RF9,refund,1.00,0,success,2026-11-23T17:40:11Z")
        #expect(unionRefund.key == MatchKey(transactionID: "Q-REFUND"))
    }

    @Test(
        arguments: [
            ("O1,L1,mall,M1,channel,alipay,T1,,payment,12.345,0,success,2026-11-23T09:15:07Z", "amount", "decimal"),
            ("O1,L1,mall,M1,channel,alipay,T1,,payment,-5.00,0,success,2026-11-23T09:15:07Z", "amount", "magnitudes"),
            ("O1,L1,mall,M1,channel,alipay,T1,,payment,abc,0,success,2026-11-23T09:15:07Z", "amount", "abc"),
            ("O1,L1,mall,M1,channel,alipay,T1,,payment,5.00,0,paid,2026-11-23T09:15:07Z", "status", "success, failed"),
            ("O1,L1,mall,M1,card,alipay,T1,,payment,5.00,0,success,2026-11-23T09:15:07Z", "leg_kind", "card"),
            (
                "O1,L1,mall,M1,channel,paypal,T1,,payment,5.00,0,success,2026-11-23T09:15:07Z", "channel",
                "alipay, unionpay"
            ),
            ("O1,L1,mall,M1,channel,,T1,,payment,5.00,0,success,2026-11-23T09:15:07Z", "channel", "names its channel"),
            ("O1,L1,mall,M1,channel,alipay,,,payment,5.00,0,success,2026-11-23T09:15:07Z", "channel_txn_id", "empty"),
            (
                "O1,L1,mall,M1,channel,alipay,T1,,refund,5.00,0,success,2026-11-23T09:15:07Z", "refund_id",
                "refund request id"
            ),
            (
                "O1,L1,mall,M1,channel,alipay,T1,R1,payment,5.00,0,success,2026-11-23T09:15:07Z", "refund_id",
                "on a payment"
            ),
            ("O1,L1,mall,M1,points,alipay,,,payment,5.00,0,success,2026-11-23T09:15:07Z", "channel", "points"),
            ("O1,L1,mall,M1,points,,T1,,payment,5.00,0,success,2026-11-23T09:15:07Z", "channel_txn_id", "points"),
            ("O1,,mall,M1,points,,,,payment,5.00,0,success,2026-11-23T09:15:07Z", "leg_id", "empty"),
            ("O1,L1,mall,M1,points,,,,sale,5.00,0,success,2026-11-23T09:15:07Z", "direction", "payment, refund"),
            ("O1,L1,mall,M1,points,,,,payment,5.00,0,success,2026-11-23 09:15:07", "occurred_at", "offset"),
        ])
    func aBadFieldIsNamedByLineAndColumn(line: String, column: String, words: String) {
        do {
            _ = try Self.parse(line)
            Issue.record("accepted: \(line)")
        } catch {
            #expect(error.line == 7 && error.column == column, "\(error)")
            #expect(error.message.contains(words), "\(error)")
        }
    }

    @Test func aRowWithTheWrongFieldCountIsRefusedWhole() {
        #expect(throws: RecordProblem(line: 7, column: nil, message: "3 fields, the header has 13")) {
            _ = try Self.parse("a,b,c")
        }
    }

    @Test func invalidUTF8IsNamed() {
        var fields = Self.fields("O1,L1,mall,M1,points,,,,payment,5.00,0,success,2026-11-23T09:15:07Z")
        fields[2] = [0xC4, 0xE3]  // GBK, not UTF-8
        do {
            _ = try Self.file.record(fields, line: 3)
            Issue.record("GBK accepted")
        } catch {
            #expect(error.column == "business_system" && error.message.contains("UTF-8"))
        }
    }
}

@Suite struct LedgerFileTests {
    @Test func entriesAreSignedAndVirtualOnly() throws {
        let fields = { (line: String) in
            line.split(separator: ",", omittingEmptySubsequences: false).map { Array($0.utf8) }
        }
        try LedgerFile.checkHeader(fields("entry_id,account_id,asset,leg_id,amount,occurred_at"), line: 1)
        let entry = try LedgerFile.record(fields("E1,A1,points,L2,-10.00,2026-11-23T09:15:07+08:00"), line: 2)
        #expect(entry.amountFen == -1000 && entry.asset == .points && entry.legID == "L2")
        #expect(throws: RecordProblem.self) {
            _ = try LedgerFile.record(fields("E1,A1,channel,L2,10.00,2026-11-23T09:15:07+08:00"), line: 2)
        }
        #expect(throws: RecordProblem.self) {
            _ = try LedgerFile.record(fields("E1,A1,points,L2,10.001,2026-11-23T09:15:07+08:00"), line: 2)
        }
    }
}
