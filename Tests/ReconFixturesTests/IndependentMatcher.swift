import ReconBills
import ReconCore
import ReconFixtures
import ReconMatching
import ReconRecords
import Testing

/// A reconciliation of a synthetic day written for the tests: a dictionary join of the parsed
/// bill lines and the parsed legs by (channel, key), and of the virtual legs and ledger entries by
/// leg id, decided by `MatchRules` and `VirtualAccountRules`. What it carried over from the day
/// before joins the day's own lines and legs.
enum IndependentMatcher {
    struct Carried {
        var lines: [ParsedLine] = []
        var legs: [PaymentLegRecord] = []
    }

    struct Outcome {
        var results: [ExpectedResult]
        var carried: Carried
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ rendered: RenderedDay, _ day: SyntheticDay, carried: Carried) throws -> Outcome {
        let lines = try parseBills(rendered, day) + carried.lines
        let allLegs = try parseLegs(rendered, day)
        let legs = allLegs.filter { $0.kind == .channel } + carried.legs
        let dayStart = (Int64(day.day.dayNumber) * 86_400 - LocalTime.beijingOffsetSeconds) * 1_000_000
        let window = CarryWindow(
            dayStart: dayStart, nextDayStart: dayStart + 86_400_000_000, widthMicroseconds: 5 * 60_000_000)

        struct Key: Hashable {
            var channel: String
            var key: MatchKey
        }
        var byKey: [Key: ParsedLine] = [:]
        for line in lines {
            guard byKey.updateValue(line, forKey: Key(channel: line.channel, key: line.key)) == nil else {
                throw Failure(description: "two bill lines with key \(line.channel) \(line.key)")
            }
        }
        var results: [ExpectedResult] = []
        var next = Carried()
        var seen = Set<Key>()
        func side(_ line: ParsedLine) -> ChannelSide {
            ChannelSide(
                key: line.key, amountFen: line.line.amountFen, feeFen: line.line.feeFen,
                movedMoney: ChannelSide.movedMoney(channelStatus: line.line.channelStatus),
                timeMicroseconds: line.line.timeMicroseconds, lineNumber: line.line.lineNumber)
        }
        func result(
            _ channel: String, _ key: MatchKey, _ line: ParsedLine?, _ leg: PaymentLegRecord?, _ status: MatchStatus
        )
            -> ExpectedResult
        {
            ExpectedResult(
                channel: channel, billDate: day.day, channelTxnID: key.transactionID, refundKey: key.refundID,
                legID: leg?.legID, status: status, channelAmountFen: line?.line.amountFen,
                internalAmountFen: leg?.amountFen, channelFeeFen: line?.line.feeFen, internalFeeFen: leg?.feeFen,
                businessSystem: leg?.businessSystem, merchantID: leg?.merchantID, legStatus: leg?.status)
        }
        for leg in legs {
            guard let channel = leg.channel, let key = leg.key else { throw Failure(description: "\(leg.legID)") }
            let joined = Key(channel: channel, key: key)
            guard seen.insert(joined).inserted else { throw Failure(description: "two legs with key \(key)") }
            let ours = InternalSide(
                legID: leg.legID, key: key, amountFen: leg.amountFen, feeFen: leg.feeFen, status: leg.status,
                occurredAtMicroseconds: leg.occurredAtMicroseconds)
            let line = byKey[joined]
            let status = MatchRules.decide(line.map { .pair(side($0), ours) } ?? .legOnly(ours), window: window)
            if status == .carriedOver { next.legs.append(leg) }
            results.append(result(channel, key, line, leg, status))
        }
        for (joined, line) in byKey where !seen.contains(joined) {
            let status = MatchRules.decide(.channelOnly(side(line)), window: window)
            if status == .carriedOver { next.lines.append(line) }
            results.append(result(line.channel, line.key, line, nil, status))
        }

        // Virtual accounts: the day's virtual legs against the ledger, by leg id.
        let virtualLegs = allLegs.filter { $0.kind.isVirtual }
        var entries: [String: [LedgerEntryRecord]] = [:]
        for entry in try parseLedger(rendered) { entries[entry.legID, default: []].append(entry) }
        func virtualResult(_ leg: PaymentLegRecord?, _ entry: LedgerEntryRecord?, _ status: MatchStatus)
            -> ExpectedResult
        {
            ExpectedResult(
                channel: (leg?.kind ?? entry?.asset ?? .preDeposit).rawValue, billDate: day.day,
                channelTxnID: leg?.legID ?? entry?.legID ?? "", refundKey: "", legID: leg?.legID,
                entryID: entry?.entryID, status: status, channelAmountFen: entry?.amountFen,
                internalAmountFen: leg?.amountFen, channelFeeFen: nil, internalFeeFen: nil,
                businessSystem: leg?.businessSystem, merchantID: leg?.merchantID, legStatus: leg?.status)
        }
        func ledgerEntry(_ entry: LedgerEntryRecord) -> LedgerEntry {
            LedgerEntry(
                entryID: entry.entryID, accountID: entry.accountID, asset: entry.asset, legID: entry.legID,
                amountFen: entry.amountFen)
        }
        var legIDs = Set<String>()
        for leg in virtualLegs {
            guard legIDs.insert(leg.legID).inserted else { throw Failure(description: "two legs \(leg.legID)") }
            let virtual = VirtualLeg(legID: leg.legID, asset: leg.kind, amountFen: leg.amountFen, status: leg.status)
            let own = entries[leg.legID] ?? []
            if let first = own.first {
                results.append(
                    virtualResult(leg, first, VirtualAccountRules.decide(.pair(virtual, ledgerEntry(first)))))
            } else {
                results.append(virtualResult(leg, nil, VirtualAccountRules.decide(.legOnly(virtual))))
            }
            for extra in own.dropFirst() {
                results.append(virtualResult(nil, extra, VirtualAccountRules.decide(.entryOnly(ledgerEntry(extra)))))
            }
        }
        for (legID, own) in entries where !legIDs.contains(legID) {
            for entry in own {
                results.append(virtualResult(nil, entry, VirtualAccountRules.decide(.entryOnly(ledgerEntry(entry)))))
            }
        }
        return Outcome(results: results, carried: next)
    }
}
