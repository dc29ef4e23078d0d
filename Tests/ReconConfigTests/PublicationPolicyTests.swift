import Foundation
import ReconConfig
import ReconCore
import Testing

/// The not-published decision as a value: snooze until the ready time, poll after it, never past
/// the deadline, and dead with the alert's words once the deadline has come.
@Suite struct PublicationPolicyTests {
    static let minute: Int64 = 60_000_000
    /// Ready 10:00, deadline 14:00 on the 24th in Beijing (02:00 and 06:00 UTC); poll 10 minutes.
    static let ready: Int64 = 1_795_485_600_000_000
    static let deadline: Int64 = ready + 240 * minute
    static let policy = PublicationPolicy(
        channel: "alipay-main", day: LocalDay(year: 2026, month: 11, day: 23) ?? LocalDay(dayNumber: 0),
        ready: ready, deadline: deadline, pollMicroseconds: 10 * minute, deadlineText: "14:00")
    static let reason = "code 40004 Business Failed isp.bill_not_exist 账单不存在"
    static let dead = PublicationPolicy.Decision.dead(
        "bill for 2026-11-23 not published by 14:00 (alipay-main: code 40004 Business Failed isp.bill_not_exist 账单不存在)")

    @Test(arguments: [
        // (what, now, decision)
        (
            "long before the ready time: wait for it", ready - 600 * minute,
            PublicationPolicy.Decision.snooze(until: ready)
        ),
        ("a minute before the ready time", ready - minute, .snooze(until: ready)),
        ("at the ready time: one poll on", ready, .snooze(until: ready + 10 * minute)),
        ("after it: one poll on", ready + 61 * minute, .snooze(until: ready + 71 * minute)),
        ("a poll would pass the deadline: the deadline", deadline - 3 * minute, .snooze(until: deadline)),
        ("a microsecond before the deadline", deadline - 1, .snooze(until: deadline)),
        ("at the deadline: dead", deadline, dead),
        ("the day after: dead", deadline + 1440 * minute, dead),
    ])
    func decides(_ what: String, now: Int64, expected: PublicationPolicy.Decision) {
        #expect(Self.policy.decide(now: now, reason: Self.reason) == expected, "\(what)")
    }

    /// A channel's policy comes from its `ready_after`, `deadline` and `poll_interval`.
    @Test func aChannelsPolicyTakesItsTimesFromTheJobFile() throws {
        let text = """
            [[channel]]
            name = "alipay-main"
            adapter = "bank_csv"
            url_template = "https://bank.example/{date}.csv"
            ready_after = "10:00"
            deadline = "14:00"
            poll_interval = "10m"
            """
        let channel = try #require(try JobFile.parse(text, file: "channels.toml").channels.first)
        let day = try #require(LocalDay("2026-11-23"))
        #expect(channel.publicationPolicy(for: day) == Self.policy)
    }
}
