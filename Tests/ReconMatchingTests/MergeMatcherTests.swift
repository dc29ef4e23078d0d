import ReconMatching
import Testing

private func line(_ id: String, _ refund: String = "", number: Int) -> ChannelSide {
    ChannelSide(
        key: MatchKey(transactionID: id, refundID: refund), amountFen: 100, feeFen: 0, movedMoney: true,
        timeMicroseconds: 0, lineNumber: number)
}

private func leg(_ id: String, _ refund: String = "", legID: String) -> InternalSide {
    InternalSide(
        legID: legID, key: MatchKey(transactionID: id, refundID: refund), amountFen: 100, feeFen: 0,
        status: .success, occurredAtMicroseconds: 0)
}

@Suite struct MergeMatcherTests {
    /// Runs the matcher over both sides, each put in merge order first (`sorted: false` feeds them
    /// as given).
    static func items(_ lines: [ChannelSide], _ legs: [InternalSide], sorted: Bool = true) throws -> [String] {
        let lines = sorted ? lines.sorted { MatchKey.mergePrecedes($0.key, $1.key) } : lines
        let legs = sorted ? legs.sorted { MatchKey.mergePrecedes($0.key, $1.key) } : legs
        var matcher = MergeMatcher(lines: lines.makeIterator(), legs: legs.makeIterator())
        var out: [String] = []
        while let item = try matcher.next() {
            switch item {
            case .pair(let line, let leg): out.append("pair \(line.key) line \(line.lineNumber) \(leg.legID)")
            case .channelOnly(let line): out.append("line \(line.key) \(line.lineNumber)")
            case .legOnly(let leg): out.append("leg \(leg.key) \(leg.legID)")
            }
        }
        return out
    }

    @Test func pairsEqualKeysAndLeavesTheRestAloneInKeyOrder() throws {
        let lines = [line("A", number: 2), line("B", number: 3), line("B", "R1", number: 4), line("D", number: 5)]
        let legs = [
            leg("B", legID: "L-B"), leg("B", "R1", legID: "L-BR1"), leg("C", legID: "L-C"), leg("E", legID: "L-E"),
        ]
        let items = try Self.items(lines, legs)
        #expect(
            items.sorted() == [
                "leg C L-C", "leg E L-E", "line A 2", "line D 5", "pair B line 3 L-B", "pair B/R1 line 4 L-BR1",
            ])
        // In merge order: by key hash, and B's refund right after B.
        let order = ["A", "B", "C", "D", "E"].sorted {
            MatchKey.mergePrecedes(MatchKey(transactionID: $0), MatchKey(transactionID: $1))
        }
        var seen: [String] = []
        for item in items {
            let letter = String(item.split(separator: " ")[1].prefix(1))
            if seen.last != letter { seen.append(letter) }
        }
        #expect(seen == order)
    }

    @Test func eitherSideMayBeEmpty() throws {
        #expect(try Self.items([], []).isEmpty)
        #expect(try Self.items([line("A", number: 2)], []) == ["line A 2"])
        #expect(try Self.items([], [leg("A", legID: "L")]) == ["leg A L"])
    }

    @Test func aKeyTwiceOnTheBillNamesBothLines() {
        #expect(throws: MatchingError.duplicateBillKey(MatchKey(transactionID: "A"), firstLine: 2, secondLine: 9)) {
            _ = try Self.items([line("A", number: 2), line("A", number: 9)], [])
        }
    }

    @Test func aKeyOnTwoLegsNamesBothLegs() {
        #expect(throws: MatchingError.duplicateLegKey(MatchKey(transactionID: "A"), firstLeg: "L1", secondLeg: "L2")) {
            _ = try Self.items([], [leg("A", legID: "L1"), leg("A", legID: "L2")])
        }
    }

    @Test func aStreamOutOfMergeOrderIsRefused() {
        // Sorted by bytes alone, as a plain `ORDER BY channel_txn_id` would give them: refused.
        let byBytes = ["K1", "K2", "K3", "K4", "K5"].map { line($0, number: 2) }
        #expect(throws: MatchingError.self) { _ = try Self.items(byBytes, [], sorted: false) }
        // Refunds of one payment, out of byte order within their hash.
        #expect(throws: MatchingError.self) {
            _ = try Self.items([line("A", "R2", number: 2), line("A", "R1", number: 3)], [], sorted: false)
        }
        let error = MatchingError.outOfOrder(
            side: "legs", previous: MatchKey(transactionID: "a"), next: MatchKey(transactionID: "B"))
        #expect("\(error)".contains("byte order"))
    }

    /// The matcher pulls one element at a time from each side: it never reads ahead of what it
    /// has decided, so a shard streams through it.
    @Test func itReadsEachSideOneElementAhead() throws {
        struct Counting: IteratorProtocol {
            var remaining: Int
            var pulled = 0
            mutating func next() -> ChannelSide? {
                guard remaining > 0 else { return nil }
                remaining -= 1
                pulled += 1
                return Self.keys[pulled - 1]
            }
            static let keys = (0..<1000).map { line("K\(100_000 + $0)", number: $0 + 1) }
                .sorted { MatchKey.mergePrecedes($0.key, $1.key) }
        }
        var matcher = MergeMatcher(lines: Counting(remaining: 1000), legs: [InternalSide]().makeIterator())
        _ = try matcher.next()
        _ = try matcher.next()
        var count = 2
        while try matcher.next() != nil { count += 1 }
        #expect(count == 1000)
    }
}
