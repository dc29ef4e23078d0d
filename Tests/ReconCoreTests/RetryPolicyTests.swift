import Foundation
import ReconCore
import Testing

@Suite struct RetryPolicyTests {
    @Test func defaultIsTwentyAttemptsFromOneSecondToOneHour() {
        let policy = RetryPolicy.default
        #expect(policy.maxAttempts == 20)
        #expect(policy.baseMilliseconds == 1_000)
        #expect(policy.capMilliseconds == 3_600_000)
    }

    @Test func ceilingsDoubleFromBaseUntilTheCapForAttemptsOneToForty() {
        let policy = RetryPolicy.default
        let doubling: [Int64] = [
            1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 1_024_000, 2_048_000,
        ]
        for attempt in 1...40 {
            let expected = attempt <= doubling.count ? doubling[attempt - 1] : 3_600_000
            #expect(policy.ceilingMilliseconds(afterAttempt: attempt) == expected, "attempt \(attempt)")
        }
    }

    @Test func attemptsBelowOneCountAsTheFirst() {
        let policy = RetryPolicy.default
        #expect(policy.ceilingMilliseconds(afterAttempt: 0) == 1_000)
        #expect(policy.ceilingMilliseconds(afterAttempt: -7) == 1_000)
        #expect(policy.ceilingMilliseconds(afterAttempt: Int.min) == 1_000)
    }

    @Test func hugeAttemptNumbersAndBasesClampToTheCapWithoutOverflow() {
        let wide = RetryPolicy(maxAttempts: 10, baseMilliseconds: 1, capMilliseconds: .max)
        #expect(wide.ceilingMilliseconds(afterAttempt: 63) == Int64(1) << 62)
        #expect(wide.ceilingMilliseconds(afterAttempt: 64) == .max)
        #expect(wide.ceilingMilliseconds(afterAttempt: 65) == .max)
        #expect(wide.ceilingMilliseconds(afterAttempt: 1_000_000) == .max)
        #expect(wide.ceilingMilliseconds(afterAttempt: Int.max) == .max)

        let hugeBase = RetryPolicy(maxAttempts: 10, baseMilliseconds: .max, capMilliseconds: .max)
        #expect(hugeBase.ceilingMilliseconds(afterAttempt: 1) == .max)
        #expect(hugeBase.ceilingMilliseconds(afterAttempt: 2) == .max)
        #expect(hugeBase.ceilingMilliseconds(afterAttempt: Int.max) == .max)

        let hugeBaseSmallCap = RetryPolicy(maxAttempts: 10, baseMilliseconds: .max / 3, capMilliseconds: 5_000)
        for attempt in [1, 2, 3, 62, 63, 64, Int.max] {
            #expect(hugeBaseSmallCap.ceilingMilliseconds(afterAttempt: attempt) == 5_000)
        }
    }

    @Test func nonsensePoliciesGiveNoWaitRatherThanANegativeOne() {
        let negativeBase = RetryPolicy(maxAttempts: 3, baseMilliseconds: -1_000, capMilliseconds: 60_000)
        let negativeCap = RetryPolicy(maxAttempts: 3, baseMilliseconds: 1_000, capMilliseconds: -1)
        var generator = SplitMix64(seed: 1)
        for attempt in 1...70 {
            #expect(negativeBase.ceilingMilliseconds(afterAttempt: attempt) == 0)
            #expect(negativeCap.ceilingMilliseconds(afterAttempt: attempt) == 0)
            #expect(negativeCap.delayMilliseconds(afterAttempt: attempt, using: &generator) == 0)
        }
    }

    @Test func jitteredDelaysStayWithinZeroAndTheCeilingAndSpreadAcrossIt() {
        let policy = RetryPolicy.default
        var generator = SplitMix64(seed: 0x5EED)
        for attempt in 1...40 {
            let ceiling = policy.ceilingMilliseconds(afterAttempt: attempt)
            var sum = 0.0
            var lowQuarter = 0
            var highQuarter = 0
            let draws = 2_000
            for _ in 0..<draws {
                let delay = policy.delayMilliseconds(afterAttempt: attempt, using: &generator)
                #expect(delay >= 0 && delay <= ceiling)
                sum += Double(delay)
                if delay < ceiling / 4 { lowQuarter += 1 }
                if delay > ceiling - ceiling / 4 { highQuarter += 1 }
            }
            // Full jitter: uniform over the whole range, so the mean is near half the ceiling
            // and both ends are hit, not just a band around the ceiling.
            let mean = sum / Double(draws)
            #expect(abs(mean - Double(ceiling) / 2) < Double(ceiling) * 0.05, "attempt \(attempt)")
            #expect(lowQuarter > draws / 8 && highQuarter > draws / 8, "attempt \(attempt)")
        }
    }

    @Test func theSameSeedGivesTheSameDelays() {
        let policy = RetryPolicy(maxAttempts: 5, baseMilliseconds: 250, capMilliseconds: 60_000)
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        let a = (1...30).map { policy.delayMilliseconds(afterAttempt: $0, using: &first) }
        let b = (1...30).map { policy.delayMilliseconds(afterAttempt: $0, using: &second) }
        #expect(a == b)
    }

    @Test func systemRandomDelaysAreWithinBounds() {
        let policy = RetryPolicy.default
        for attempt in [1, 5, 20] {
            let delay = policy.delayMilliseconds(afterAttempt: attempt)
            #expect(delay >= 0 && delay <= policy.ceilingMilliseconds(afterAttempt: attempt))
        }
    }

    @Test func exhaustedOnceAttemptsReachTheMaximum() {
        let policy = RetryPolicy(maxAttempts: 3, baseMilliseconds: 1_000, capMilliseconds: 10_000)
        #expect(!policy.isExhausted(attempt: 0))
        #expect(!policy.isExhausted(attempt: 1))
        #expect(!policy.isExhausted(attempt: 2))
        #expect(policy.isExhausted(attempt: 3))
        #expect(policy.isExhausted(attempt: 4))
    }

    @Test func roundTripsThroughJSON() throws {
        let policy = RetryPolicy(maxAttempts: 7, baseMilliseconds: 500, capMilliseconds: 90_000)
        let data = try JSONEncoder().encode(policy)
        #expect(try JSONDecoder().decode(RetryPolicy.self, from: data) == policy)
    }
}
