import ReconCore
import ReconJobs
import Testing

/// The rule `fail` and the reaper share, without a database.
@Suite struct RetryDecisionTests {
    static let policy = RetryPolicy(maxAttempts: 3, baseMilliseconds: 1_000, capMilliseconds: 4_000)

    @Test(arguments: 1...3)
    func aPermanentFailureIsDeadWhateverAttemptsAreLeft(attempt: Int) {
        var random = CountingGenerator(state: 1)
        #expect(RetryDecision.after(attempt: attempt, policy: Self.policy, retryable: false, using: &random) == .dead)
    }

    @Test func aRetryableFailureWaitsItsBackoffUntilTheLastAttempt() {
        var random = CountingGenerator(state: 5)
        var expected = CountingGenerator(state: 5)
        for attempt in 1...2 {
            let decision = RetryDecision.after(attempt: attempt, policy: Self.policy, using: &random)
            let delay = Self.policy.delayMilliseconds(afterAttempt: attempt, using: &expected)
            #expect(decision == .retry(afterMilliseconds: delay))
            #expect(
                decision.delayMilliseconds.map { $0 <= Self.policy.ceilingMilliseconds(afterAttempt: attempt) } == true)
        }
        #expect(RetryDecision.after(attempt: 3, policy: Self.policy, using: &random) == .dead)
        #expect(RetryDecision.dead.delayMilliseconds == nil)
    }

    @Test func retryAfterIsAFloorCappedAtAYear() {
        var random = CountingGenerator(state: 9)
        let later = RetryDecision.after(
            attempt: 1, policy: Self.policy, retryAfterMilliseconds: 30_000, using: &random)
        #expect(later == .retry(afterMilliseconds: 30_000))
        let absurd = RetryDecision.after(
            attempt: 1, policy: Self.policy, retryAfterMilliseconds: .max, using: &random)
        #expect(absurd == .retry(afterMilliseconds: RetryDecision.longestRetryAfterMilliseconds))
        let negative = RetryDecision.after(attempt: 1, policy: Self.policy, retryAfterMilliseconds: -5, using: &random)
        #expect((negative.delayMilliseconds ?? -1) >= 0)
    }
}

/// What log lines about a job carry, by kind, without a database.
@Suite struct JobLogFieldsTests {
    static var fields: JobLogFields {
        var fields = JobLogFields()
        fields.register(kind: "fetch_bill", argument: "channel", as: "bill.channel")
        fields.register(kind: "fetch_bill", argument: "date", as: "bill.date")
        fields.register(kind: "settle", argument: "shard", as: "settle.shard")
        return fields
    }

    @Test func aKindsArgumentsGoUnderTheirKeysBesideTheJobsOwn() {
        let metadata = Self.fields.metadata(
            id: 42, kind: "fetch_bill", attempt: 3, args: #"{"channel": "alipay-main", "date": "2026-11-23", "x": 1}"#)
        #expect(
            metadata == [
                "job.id": "42", "job.kind": "fetch_bill", "job.attempt": "3", "bill.channel": "alipay-main",
                "bill.date": "2026-11-23",
            ])
        #expect(Self.fields.fields(kind: "settle", args: #"{"shard": 7}"#) == ["settle.shard": "7"])
    }

    @Test(arguments: [#"{"date": "2026-11-23"}"#, #"{"channel": {"nested": 1}}"#, "[1, 2]", "not json", ""])
    func argumentsThatAreMissingOrOddAreLeftOut(args: String) {
        let fields = Self.fields.fields(kind: "fetch_bill", args: args)
        #expect(fields["bill.channel"] == nil)
        #expect(Self.fields.metadata(id: 1, kind: "fetch_bill", attempt: 1, args: args)["job.id"] == "1")
    }

    @Test func otherKindsCarryOnlyTheJobsOwnKeys() {
        #expect(Self.fields.fields(kind: "probe", args: #"{"channel": "x"}"#).isEmpty)
    }
}
