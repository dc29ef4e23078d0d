/// A virtual-account leg of the day (pre-deposit, points, data traffic), signed as it moves the
/// account: a payment positive, a refund negative, in yuan-equivalent fen (1 point = 1 fen).
public struct VirtualLeg: Sendable, Equatable {
    public var legID: String
    public var asset: LegKind
    public var amountFen: Int64
    public var status: LegStatus
    /// Whose money it is: settlement sums by these.
    public var businessSystem: String
    public var merchantID: String

    public init(
        legID: String, asset: LegKind, amountFen: Int64, status: LegStatus, businessSystem: String = "",
        merchantID: String = ""
    ) {
        self.businessSystem = businessSystem
        self.merchantID = merchantID
        self.legID = legID
        self.asset = asset
        self.amountFen = amountFen
        self.status = status
    }
}

/// A movement of the virtual-account ledger, naming the leg that moved it.
public struct LedgerEntry: Sendable, Equatable {
    public var entryID: String
    public var accountID: String
    public var asset: LegKind
    public var legID: String
    public var amountFen: Int64

    public init(entryID: String, accountID: String, asset: LegKind, legID: String, amountFen: Int64) {
        self.entryID = entryID
        self.accountID = accountID
        self.asset = asset
        self.legID = legID
        self.amountFen = amountFen
    }
}

public enum VirtualItem: Sendable, Equatable {
    case pair(VirtualLeg, LedgerEntry)
    case legOnly(VirtualLeg)
    case entryOnly(LedgerEntry)
}

/// Issue 12, §3 "Virtual accounts": every virtual leg against the ledger, the ledger playing the
/// channel's part. No windows: the ledger is ours and has no midnight of its own.
public enum VirtualAccountRules {
    public static func decide(_ item: VirtualItem) -> MatchStatus {
        switch item {
        case .pair(let leg, let entry):
            // An entry in another asset moved none of the leg's asset: its amount is what differs.
            if entry.amountFen != leg.amountFen || entry.asset != leg.asset { return .amountMismatch }
            // A failed, closed or pending leg whose account moved all the same.
            if !leg.status.movedMoney { return .statusMismatch }
            return .matched
        case .legOnly(let leg):
            switch leg.status {
            // A successful leg that moved no account; a leg still pending at the close is
            // something to look at too, as on a channel.
            case .success, .pending: return .internalOnly
            case .failed, .closed: return .matched
            }
        case .entryOnly:
            // A ledger movement with no leg behind it (or a second movement for one leg).
            return .channelOnly
        }
    }
}

/// Pairs virtual legs sorted by leg id with ledger entries sorted by (leg id, entry id), both in
/// byte order. A leg meets its first entry; any further entry for the same leg stands alone as
/// `channel_only` (an account moved twice for one leg).
public struct VirtualMatcher<Legs: IteratorProtocol<VirtualLeg>, Entries: IteratorProtocol<LedgerEntry>> {
    private var legs: Legs
    private var entries: Entries
    private var nextLeg: VirtualLeg?
    private var nextEntry: LedgerEntry?
    private var started = false

    public init(legs: Legs, entries: Entries) {
        self.legs = legs
        self.entries = entries
    }

    public mutating func next() throws(MatchingError) -> VirtualItem? {
        if !started {
            started = true
            nextLeg = legs.next()
            nextEntry = entries.next()
        }
        switch (nextLeg, nextEntry) {
        case (nil, nil):
            return nil
        case (let leg?, nil):
            try advanceLegs(after: leg)
            return .legOnly(leg)
        case (nil, let entry?):
            try advanceEntries(after: entry)
            return .entryOnly(entry)
        case (let leg?, let entry?):
            let legKey = MatchKey(transactionID: leg.legID), entryKey = MatchKey(transactionID: entry.legID)
            if legKey == entryKey {
                try advanceLegs(after: leg)
                try advanceEntries(after: entry)
                return .pair(leg, entry)
            } else if legKey < entryKey {
                try advanceLegs(after: leg)
                return .legOnly(leg)
            } else {
                try advanceEntries(after: entry)
                return .entryOnly(entry)
            }
        }
    }

    private mutating func advanceLegs(after leg: VirtualLeg) throws(MatchingError) {
        nextLeg = legs.next()
        guard let following = nextLeg else { return }
        let previous = MatchKey(transactionID: leg.legID), next = MatchKey(transactionID: following.legID)
        if previous == next { throw .duplicateLegKey(previous, firstLeg: leg.legID, secondLeg: following.legID) }
        if next < previous { throw .outOfOrder(side: "virtual legs", previous: previous, next: next) }
    }

    private mutating func advanceEntries(after entry: LedgerEntry) throws(MatchingError) {
        nextEntry = entries.next()
        guard let following = nextEntry else { return }
        let previous = MatchKey(transactionID: entry.legID, refundID: entry.entryID)
        let next = MatchKey(transactionID: following.legID, refundID: following.entryID)
        if !(previous < next) { throw .outOfOrder(side: "ledger entries", previous: previous, next: next) }
    }
}
