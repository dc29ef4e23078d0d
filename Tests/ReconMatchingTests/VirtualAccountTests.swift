import ReconMatching
import Testing

private func leg(_ id: String, _ amount: Int64, _ status: LegStatus = .success, asset: LegKind = .points)
    -> VirtualLeg
{
    VirtualLeg(legID: id, asset: asset, amountFen: amount, status: status)
}

private func entry(_ id: String, leg: String, _ amount: Int64, asset: LegKind = .points) -> LedgerEntry {
    LedgerEntry(entryID: id, accountID: "A1", asset: asset, legID: leg, amountFen: amount)
}

@Suite struct VirtualAccountTests {
    @Test(
        arguments: [
            ("agree", VirtualItem.pair(leg("L", 1000), entry("E", leg: "L", 1000)), MatchStatus.matched),
            ("refund agrees", .pair(leg("L", -500), entry("E", leg: "L", -500)), .matched),
            ("amounts differ", .pair(leg("L", 1000), entry("E", leg: "L", 999)), .amountMismatch),
            ("another asset", .pair(leg("L", 1000), entry("E", leg: "L", 1000, asset: .preDeposit)), .amountMismatch),
            ("failed leg moved", .pair(leg("L", 1000, .failed), entry("E", leg: "L", 1000)), .statusMismatch),
            ("pending leg moved", .pair(leg("L", 1000, .pending), entry("E", leg: "L", 1000)), .statusMismatch),
            ("closed leg moved", .pair(leg("L", 1000, .closed), entry("E", leg: "L", 1000)), .statusMismatch),
            ("paid leg, no entry", .legOnly(leg("L", 1000)), .internalOnly),
            ("pending leg, no entry", .legOnly(leg("L", 1000, .pending)), .internalOnly),
            ("failed leg, no entry", .legOnly(leg("L", 1000, .failed)), .matched),
            ("entry, no leg", .entryOnly(entry("E", leg: "GHOST", 1000)), .channelOnly),
        ])
    func theLedgerPlaysTheChannelsPart(name: String, item: VirtualItem, expected: MatchStatus) {
        #expect(VirtualAccountRules.decide(item) == expected, "\(name)")
    }

    @Test func aSecondEntryForOneLegStandsAlone() throws {
        var matcher = VirtualMatcher(
            legs: [leg("L1", 100), leg("L2", 200)].makeIterator(),
            entries: [entry("E1", leg: "L1", 100), entry("E2", leg: "L1", 100), entry("E3", leg: "L3", 5)]
                .makeIterator())
        var items: [VirtualItem] = []
        while let item = try matcher.next() { items.append(item) }
        #expect(
            items == [
                .pair(leg("L1", 100), entry("E1", leg: "L1", 100)), .entryOnly(entry("E2", leg: "L1", 100)),
                .legOnly(leg("L2", 200)), .entryOnly(entry("E3", leg: "L3", 5)),
            ])
    }

    @Test func entriesOutOfOrderAreRefused() {
        var matcher = VirtualMatcher(
            legs: [VirtualLeg]().makeIterator(),
            entries: [entry("E2", leg: "L1", 1), entry("E1", leg: "L1", 1)].makeIterator())
        #expect(throws: MatchingError.self) { while try matcher.next() != nil {} }
    }
}
