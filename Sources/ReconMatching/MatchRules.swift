/// One thing reconciliation decides about: a bill line and a leg with the same key, or either
/// alone.
public enum MatchItem: Sendable, Equatable {
    case pair(ChannelSide, InternalSide)
    case channelOnly(ChannelSide)
    case legOnly(InternalSide)

    public var channel: ChannelSide? {
        switch self {
        case .pair(let line, _), .channelOnly(let line): line
        case .legOnly: nil
        }
    }

    public var leg: InternalSide? {
        switch self {
        case .pair(_, let leg), .legOnly(let leg): leg
        case .channelOnly: nil
        }
    }

    public var key: MatchKey {
        switch self {
        case .pair(let line, _), .channelOnly(let line): line.key
        case .legOnly(let leg): leg.key
        }
    }
}

/// The matching rules of issue 12, §3. The first rule that fits decides.
public enum MatchRules {
    public static func decide(_ item: MatchItem, window: CarryWindow?) -> MatchStatus {
        switch item {
        case .pair(let line, let leg):
            if line.amountFen != leg.amountFen { return .amountMismatch }
            if line.movedMoney != leg.status.movedMoney { return .statusMismatch }
            if line.feeFen != leg.feeFen { return .feeMismatch }
            return .matched
        case .channelOnly(let line):
            return window?.isJustAfterMidnight(line.timeMicroseconds) == true ? .carriedOver : .channelOnly
        case .legOnly(let leg):
            switch leg.status {
            case .success, .pending:
                return window?.isJustBeforeNextMidnight(leg.occurredAtMicroseconds) == true
                    ? .carriedOver : .internalOnly
            case .failed, .closed:
                // No money moved on either side.
                return .matched
            }
        }
    }
}
