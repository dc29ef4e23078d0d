import Synchronization

/// What the mock saw, per channel: requests, and the most that were in flight at once (the
/// shared-limit test reads this). A download counts until its last byte is written.
public final class MockStats: Sendable {
    public struct Snapshot: Codable, Sendable, Equatable {
        public var requests: [String: Int]
        public var inFlight: [String: Int]
        public var maxInFlight: [String: Int]
    }

    private let state = Mutex(Snapshot(requests: [:], inFlight: [:], maxInFlight: [:]))

    public init() {}

    func enter(_ channel: String) {
        state.withLock { state in
            state.requests[channel, default: 0] += 1
            let now = state.inFlight[channel, default: 0] + 1
            state.inFlight[channel] = now
            state.maxInFlight[channel] = max(state.maxInFlight[channel, default: 0], now)
        }
    }

    func leave(_ channel: String) {
        state.withLock { $0.inFlight[channel, default: 1] -= 1 }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func reset() {
        state.withLock { state in
            state.requests = [:]
            state.maxInFlight = state.inFlight
        }
    }
}
