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
        ready: ready, deadline: deadline, pollMicroseconds: 10 * minute, deadlineText: "2026-11-24 14:00 Asia/Shanghai")
    static let reason = "code 40004 Business Failed isp.bill_not_exist 账单不存在"
    static func dead(_ ago: String) -> PublicationPolicy.Decision {
        .dead(
            "bill for 2026-11-23 not published by 2026-11-24 14:00 Asia/Shanghai, \(ago) (alipay-main: code 40004 "
                + "Business Failed isp.bill_not_exist 账单不存在)")
    }

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
        ("at the deadline: dead", deadline, dead("under a minute ago")),
        ("the day after: dead", deadline + 1440 * minute, dead("1 day ago")),
    ])
    func decides(_ what: String, now: Int64, expected: PublicationPolicy.Decision) {
        #expect(Self.policy.decide(now: now, reason: Self.reason) == expected, "\(what)")
    }

    /// Past the deadline a fetch that has asked at most `latePolls` times (a past day fetched
    /// again) asks again a poll later; one with more asks behind it is dead, as without a count.
    @Test func aFetchWithFewAsksStillAsksPastTheDeadline() {
        let late = Self.deadline + 8 * 1440 * Self.minute + 125 * Self.minute
        let policy = Self.policy
        #expect(policy.decide(now: late, reason: Self.reason, asks: 1) == .snooze(until: late + 10 * Self.minute))
        #expect(policy.decide(now: late, reason: Self.reason, asks: 3) == .snooze(until: late + 10 * Self.minute))
        #expect(policy.decide(now: late, reason: Self.reason, asks: 4) == Self.dead("8 days 2 hours ago"))
        #expect(policy.decide(now: late, reason: Self.reason) == Self.dead("8 days 2 hours ago"))
        var none = policy
        none.latePolls = 0
        #expect(none.decide(now: late, reason: Self.reason, asks: 1) == Self.dead("8 days 2 hours ago"))
        // A fetch that polled through the day is dead at the deadline, as before.
        #expect(policy.decide(now: Self.deadline, reason: Self.reason, asks: 25) == Self.dead("under a minute ago"))
        #expect(
            policy.decide(now: Self.deadline + 61 * Self.minute, reason: Self.reason, asks: 25)
                == Self.dead("1 hour 1 minute ago"))
    }

    /// A deadline may fall on the second day after the bill's date (up to 47:59), and says so.
    @Test func aDeadlineUpTo4759FallsOnTheDayAfterNext() throws {
        func channel(deadline: String, readyAfter: String = "10:00") throws -> ChannelDefinition? {
            try JobFile.parse(
                """
                [[channel]]
                name = "bank-a"
                adapter = "bank_csv"
                url_template = "https://bank.example/{date}.csv"
                ready_after = "\(readyAfter)"
                deadline = "\(deadline)"
                late_polls = 5
                """, file: "channels.toml"
            ).channels.first
        }
        let day = try #require(LocalDay("2026-11-23"))
        let late = try #require(try channel(deadline: "47:59"))
        #expect(late.deadlineText(for: day) == "2026-11-25 23:59 Asia/Shanghai")
        #expect(late.publicationPolicy(for: day).latePolls == 5)
        // 23:59 on the 25th in Beijing is 15:59 UTC.
        #expect(late.readyAndDeadline(for: day).deadline == 1_795_622_340_000_000)
        #expect(try channel(deadline: "14:00")?.deadlineText(for: day) == "2026-11-24 14:00 Asia/Shanghai")
        let refused = #expect(throws: TOMLError.self) { try channel(deadline: "48:00") }
        #expect(refused?.description.contains("must be a local time HH:MM up to 47:59, found \"48:00\"") == true)
        #expect(throws: TOMLError.self) { try channel(deadline: "30:00", readyAfter: "24:00") }
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
