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

    /// MD5's published test vectors (RFC 1321), first 8 bytes, top bit cleared.
    @Test func theKeyHashIsTheTopOfMD5() {
        #expect(MatchKey.keyHash("") == 0x541d_8cd9_8f00_b204)  // d41d8cd98f00b204…
        #expect(MatchKey.keyHash("a") == 0x0cc1_75b9_c0f1_b6a8)  // 0cc175b9c0f1b6a8…
        #expect(MatchKey.keyHash("abc") == 0x1001_5098_3cd2_4fb0)  // 900150983cd24fb0…
    }

    /// Shard i of n is the i-th of n equal ranges of [0, 2^63): the ranges cover every hash once,
    /// and a key's shard is the range holding its hash.
    @Test func shardRangesCoverEveryHashOnce() {
        for shards in [1, 2, 3, 4, 7, 4096] {
            let ranges = (0..<shards).map { ShardRange(shard: $0, of: shards) }
            #expect(ranges.first?.lowerHash == 0)
            #expect(ranges.last?.upperHash == Int64.max)
            for (before, after) in zip(ranges, ranges.dropFirst()) { #expect(after.lowerHash == before.upperHash + 1) }
            for hash in [0, 1, Int64.max / 2, Int64.max - 1, Int64.max, MatchKey.keyHash("foobar")] {
                let shard = ShardRange.shard(ofHash: hash, among: shards)
                #expect(ranges[shard].contains(hash), "hash \(hash) shard \(shard) of \(shards)")
                #expect(ranges.filter { $0.contains(hash) }.count == 1)
            }
        }
        // 0x541d… is in the upper half of [0, 2^63).
        #expect(MatchKey(transactionID: "").shard(of: 2) == 1)
    }

    /// The merge order: key hash first, then bytes (refunds of one payment stay together).
    @Test func theMergeOrderIsHashThenBytes() {
        let payment = MatchKey(transactionID: "T1"), refund = MatchKey(transactionID: "T1", refundID: "R")
        #expect(MatchKey.mergePrecedes(payment, refund) && !MatchKey.mergePrecedes(refund, payment))
        let (a, b) = (MatchKey(transactionID: "a"), MatchKey(transactionID: "foobar"))
        #expect(MatchKey.mergePrecedes(a, b) == (a.keyHash < b.keyHash))
    }

    @Test func shardsSpreadKeysAndNeverLeaveTheirRange() {
        var counts = [Int](repeating: 0, count: 4)
        for index in 0..<4000 {
            let shard = MatchKey(transactionID: "42000000002026112300000\(index)").shard(of: 4)
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
