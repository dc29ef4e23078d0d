/// How a failed task is retried: how many attempts it gets and how long to wait between them.
///
/// Waits grow exponentially and use *full jitter*: the delay after attempt n is drawn uniformly
/// from `0...ceiling(n)`. Jitter spreads the retries of many workers that failed together (a
/// channel outage at 02:00 fails every shard at once), so they do not hammer the channel again
/// in lockstep. Full jitter rather than "ceiling ± a little" because it spreads load best for the
/// same expected wait.
public struct RetryPolicy: Sendable, Equatable, Codable {
    /// Attempts allowed in all, the first one included. Past this the job is dead.
    public var maxAttempts: Int
    /// The ceiling after the first failed attempt, in milliseconds; it doubles per attempt.
    public var baseMilliseconds: Int64
    /// No wait is ever longer than this, however many attempts have failed.
    public var capMilliseconds: Int64

    /// 20 attempts, waits from up to 1 s doubling to at most 1 h: about a day of retries in all,
    /// enough to ride out a channel's nightly maintenance window.
    public static let `default` = RetryPolicy()

    public init(maxAttempts: Int = 20, baseMilliseconds: Int64 = 1_000, capMilliseconds: Int64 = 3_600_000) {
        self.maxAttempts = maxAttempts
        self.baseMilliseconds = baseMilliseconds
        self.capMilliseconds = capMilliseconds
    }

    /// The longest wait after the `attempt`-th failure: `min(cap, base · 2^(attempt−1))`.
    ///
    /// Safe for any input, since attempt counts come from the database and policies from job
    /// files: attempts below 1 count as 1, a product that would overflow is the cap, and a
    /// negative base or cap gives 0 rather than a negative wait.
    public func ceilingMilliseconds(afterAttempt attempt: Int) -> Int64 {
        let cap = max(0, capMilliseconds)
        let base = max(0, baseMilliseconds)
        guard base > 0 else { return 0 }
        let shift = max(1, attempt) - 1
        // 2^62 is the largest power of two an Int64 holds; any base ≥ 1 times 2^63 overflows.
        guard shift < 63 else { return cap }
        let (product, overflowed) = base.multipliedReportingOverflow(by: Int64(1) << Int64(shift))
        return overflowed ? cap : min(cap, product)
    }

    /// The wait after the `attempt`-th failure, uniform in `0...ceilingMilliseconds(afterAttempt:)`.
    ///
    /// The generator is a parameter so tests (and simulations) can be deterministic.
    public func delayMilliseconds(
        afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator
    ) -> Int64 {
        Int64.random(in: 0...ceilingMilliseconds(afterAttempt: attempt), using: &generator)
    }

    /// The wait after the `attempt`-th failure, drawn from the system's generator.
    public func delayMilliseconds(afterAttempt attempt: Int) -> Int64 {
        var generator = SystemRandomNumberGenerator()
        return delayMilliseconds(afterAttempt: attempt, using: &generator)
    }

    /// Whether a job that has made `attempt` attempts may not make another.
    public func isExhausted(attempt: Int) -> Bool {
        attempt >= maxAttempts
    }
}
