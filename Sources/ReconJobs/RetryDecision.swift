public import ReconCore

/// What becomes of a failed attempt: back to the queue after a delay, or dead. `fail` and the
/// reaper both decide with it, so a failure reported by a worker and a lease that expired follow
/// one rule.
public enum RetryDecision: Sendable, Equatable {
    case retry(afterMilliseconds: Int64)
    case dead

    /// The longest a `Retry-After` may push a retry out: a year.
    public static let longestRetryAfterMilliseconds: Int64 = 366 * 86_400_000

    /// Dead when the failure is not `retryable` or `attempt` used the policy's last attempt;
    /// otherwise the policy's full-jitter backoff after `attempt`, but no sooner than
    /// `retryAfterMilliseconds` (a channel's `Retry-After`, at most a year).
    public static func after(
        attempt: Int, policy: RetryPolicy, retryable: Bool = true, retryAfterMilliseconds: Int64? = nil,
        using random: inout some RandomNumberGenerator
    ) -> RetryDecision {
        guard retryable, !policy.isExhausted(attempt: attempt) else { return .dead }
        let backoff = policy.delayMilliseconds(afterAttempt: attempt, using: &random)
        let floor = min(max(0, retryAfterMilliseconds ?? 0), longestRetryAfterMilliseconds)
        return .retry(afterMilliseconds: max(backoff, floor))
    }

    /// The wait before the next attempt; nil when dead.
    public var delayMilliseconds: Int64? {
        switch self {
        case .retry(let delay): return delay
        case .dead: return nil
        }
    }
}
