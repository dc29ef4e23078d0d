/// Pairs two streams sorted in `MatchKey.mergePrecedes` order (key hash, then bytes, as
/// PostgreSQL's `ORDER BY key_hash, channel_txn_id, match_refund_key` under COLLATE "C" gives them) into `MatchItem`s, holding one element of each side at a time: a shard of any
/// size reconciles in constant memory.
///
/// A key twice on one side is an error naming both places (issue 12: keys are unique on each side
/// of a channel-day), and so is a stream out of order, which would otherwise pair nothing.
public struct MergeMatcher<Lines: IteratorProtocol<ChannelSide>, Legs: IteratorProtocol<InternalSide>> {
    private var lines: Lines
    private var legs: Legs
    private var nextLine: ChannelSide?
    private var nextLeg: InternalSide?
    private var started = false

    public init(lines: Lines, legs: Legs) {
        self.lines = lines
        self.legs = legs
    }

    /// The next item in key order, or nil when both streams are done.
    public mutating func next() throws(MatchingError) -> MatchItem? {
        if !started {
            started = true
            nextLine = lines.next()
            nextLeg = legs.next()
        }
        switch (nextLine, nextLeg) {
        case (nil, nil):
            return nil
        case (let line?, nil):
            try advanceLines(after: line)
            return .channelOnly(line)
        case (nil, let leg?):
            try advanceLegs(after: leg)
            return .legOnly(leg)
        case (let line?, let leg?):
            if line.key == leg.key {
                try advanceLines(after: line)
                try advanceLegs(after: leg)
                return .pair(line, leg)
            } else if MatchKey.mergePrecedes(line.key, leg.key) {
                try advanceLines(after: line)
                return .channelOnly(line)
            } else {
                try advanceLegs(after: leg)
                return .legOnly(leg)
            }
        }
    }

    private mutating func advanceLines(after line: ChannelSide) throws(MatchingError) {
        nextLine = lines.next()
        guard let following = nextLine else { return }
        if following.key == line.key {
            throw .duplicateBillKey(line.key, firstLine: line.lineNumber, secondLine: following.lineNumber)
        }
        if MatchKey.mergePrecedes(following.key, line.key) {
            throw .outOfOrder(side: "bill lines", previous: line.key, next: following.key)
        }
    }

    private mutating func advanceLegs(after leg: InternalSide) throws(MatchingError) {
        nextLeg = legs.next()
        guard let following = nextLeg else { return }
        if following.key == leg.key {
            throw .duplicateLegKey(leg.key, firstLeg: leg.legID, secondLeg: following.legID)
        }
        if MatchKey.mergePrecedes(following.key, leg.key) {
            throw .outOfOrder(side: "legs", previous: leg.key, next: following.key)
        }
    }
}

public enum MatchingError: Error, Equatable, CustomStringConvertible {
    case duplicateBillKey(MatchKey, firstLine: Int, secondLine: Int)
    case duplicateLegKey(MatchKey, firstLeg: String, secondLeg: String)
    case outOfOrder(side: String, previous: MatchKey, next: MatchKey)

    public var description: String {
        switch self {
        case .duplicateBillKey(let key, let first, let second):
            "key \(key) is on the bill twice: lines \(first) and \(second)"
        case .duplicateLegKey(let key, let first, let second):
            "key \(key) belongs to two legs: \(first) and \(second)"
        case .outOfOrder(let side, let previous, let next):
            "\(side) came out of key order (\(next) after \(previous)): they must be sorted by key hash, then byte order"
        }
    }
}
