import ReconMatching
import Testing

/// Issue 12, §2: how a bill line meets its leg, per channel, and the stable shard of a key.
@Suite struct MatchKeyTests {
    @Test func alipayWeChatAndBankRefundsAreKeyedByTheirRefundID() {
        let payment = MatchKey(
            transactionID: "2026112322000000000000000001", refundID: nil, isRefund: false, rule: .sharedTransactionID)
        let refund = MatchKey(
            transactionID: "2026112322000000000000000001", refundID: "RF1", isRefund: true, rule: .sharedTransactionID)
        let secondRefund = MatchKey(
            transactionID: "2026112322000000000000000001", refundID: "RF2", isRefund: true, rule: .sharedTransactionID)
        #expect(payment == MatchKey(transactionID: "2026112322000000000000000001"))
        #expect(refund != payment && refund != secondRefund)
        // A payment row's refund id is never part of its key (WeChat writes `0` there).
        #expect(
            MatchKey(transactionID: "T", refundID: "0", isRefund: false, rule: .sharedTransactionID)
                == MatchKey(transactionID: "T"))
        // They share their payment's shard.
        #expect(refund.shard(of: 8) == payment.shard(of: 8))
    }

    @Test func aUnionPayRefundIsKeyedByItsOwnQueryID() {
        let refund = MatchKey(transactionID: "Q-REFUND", refundID: "RF1", isRefund: true, rule: .ownTransactionID)
        #expect(refund == MatchKey(transactionID: "Q-REFUND"))
    }

    /// FNV-1a 64 known answers (the published test vectors), with the top bit cleared.
    @Test func theKeyHashIsFNV1aCutTo63Bits() {
        #expect(MatchKey.keyHash("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325 & 0x7fff_ffff_ffff_ffff))
        #expect(MatchKey.keyHash("a") == Int64(bitPattern: 0xaf63_dc4c_8601_ec8c & 0x7fff_ffff_ffff_ffff))
        #expect(MatchKey.keyHash("foobar") == Int64(bitPattern: 0x8594_4171_f739_67e8 & 0x7fff_ffff_ffff_ffff))
        #expect(MatchKey.shard(transactionID: "foobar", of: 7) == Int(0x0594_4171_f739_67e8 % 7))
    }

    @Test func shardsSpreadKeysAndNeverLeaveTheirRange() {
        var counts = [Int](repeating: 0, count: 4)
        for index in 0..<4000 {
            let shard = MatchKey.shard(transactionID: "42000000002026112300000\(index)", of: 4)
            counts[shard] += 1
        }
        #expect(counts.allSatisfy { $0 > 800 && $0 < 1200 }, "\(counts)")
    }

    /// Byte order, as PostgreSQL's `COLLATE "C"`: not Swift's Unicode order.
    @Test func keysSortByTheirUTF8Bytes() {
        #expect(MatchKey(transactionID: "B") < MatchKey(transactionID: "a"))
        #expect(MatchKey(transactionID: "T", refundID: "") < MatchKey(transactionID: "T", refundID: "R"))
        #expect(MatchKey(transactionID: "Z") < MatchKey(transactionID: "é"))
        // "é" precomposed (C3 A9) and decomposed (65 CC 81) are equal Swift strings but differ in
        // bytes; sorting must follow the bytes the server compares.
        #expect(MatchKey(transactionID: "e\u{301}") < MatchKey(transactionID: "\u{e9}"))
        #expect(MatchKey(transactionID: "e\u{301}") != MatchKey(transactionID: "\u{e9}"))
        #expect(Set([MatchKey(transactionID: "e\u{301}"), MatchKey(transactionID: "\u{e9}")]).count == 2)
    }
}
