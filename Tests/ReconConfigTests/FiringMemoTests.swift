import Foundation
import ReconConfig
import Testing

/// The scheduler's dedupe as a value: which firings of the catch-up window a tick enqueues, with
/// which args and unique keys, and what it remembers.
@Suite struct FiringMemoTests {
    static let jobFile = """
        [[schedule]]
        name = "nightly"
        cron = "0 0 * * *"
        time_zone = "Asia/Shanghai"
        kind = "probe"
        args = { day = "{yesterday}" }
        unique_key = "nightly:{yesterday}"
        catch_up = "50h"

        [[schedule]]
        name = "hourly"
        cron = "0 * * * *"
        time_zone = "UTC"
        kind = "probe"
        catch_up = "90m"
        """

    static func schedules() throws -> (nightly: ScheduleDefinition, hourly: ScheduleDefinition) {
        let all = try JobFile.schedules(in: jobFile, file: "jobs.toml")
        try #require(all.count == 2)
        return (all[0], all[1])
    }

    static func instant(_ text: String) throws -> Date { try Date.ISO8601FormatStyle().parse(text) }

    @Test(arguments: [
        // (now, firings already enqueued, unique keys due)
        // 11:00 in Shanghai on the 24th: the midnights of the 23rd and the 24th are within 50 h.
        ("2026-11-24T03:00:00Z", [String](), ["nightly:2026-11-22", "nightly:2026-11-23"]),
        ("2026-11-24T03:00:00Z", ["2026-11-22T16:00:00Z"], ["nightly:2026-11-23"]),
        ("2026-11-24T03:00:00Z", ["2026-11-22T16:00:00Z", "2026-11-23T16:00:00Z"], []),
        // The window's end counts: a firing at `now` is due.
        ("2026-11-23T16:00:00Z", [], ["nightly:2026-11-21", "nightly:2026-11-22", "nightly:2026-11-23"]),
        // Its start does not: exactly 50 h before `now` is out.
        ("2026-11-24T18:00:00Z", [], ["nightly:2026-11-23", "nightly:2026-11-24"]),
    ])
    func dueFiringsAreThoseOfTheWindowNotYetEnqueued(now: String, enqueued: [String], keys: [String]) throws {
        let nightly = try Self.schedules().nightly
        var memo = FiringMemo()
        for text in enqueued {
            memo.enqueued(
                ScheduledFiring(schedule: "nightly", instant: try Self.instant(text), args: "", uniqueKey: ""))
        }
        let due = memo.due(nightly, now: try Self.instant(now))
        #expect(due.map(\.uniqueKey) == keys)
        #expect(due.allSatisfy { $0.schedule == "nightly" })
        #expect(due.map(\.args) == keys.map { "{\"day\":\"\($0.dropFirst("nightly:".count))\"}" })
    }

    @Test func aFiringEnqueuedIsNotDueAgainAndIsForgottenOnceOutOfEveryWindow() throws {
        let (nightly, hourly) = try Self.schedules()
        let now = try Self.instant("2026-11-24T03:00:00Z")
        var memo = FiringMemo()
        let due = memo.due(nightly, now: now) + memo.due(hourly, now: now)
        // The hourly schedule's default key names its instant; its window is 90 minutes.
        #expect(
            due.map(\.uniqueKey) == [
                "nightly:2026-11-22", "nightly:2026-11-23", "cron:hourly:2026-11-24T02:00:00Z",
                "cron:hourly:2026-11-24T03:00:00Z",
            ])
        due.forEach { memo.enqueued($0) }
        #expect(memo.due(nightly, now: now).isEmpty)
        #expect(memo.due(hourly, now: now).isEmpty)
        // A later tick finds only the new firing.
        #expect(
            memo.due(hourly, now: now.addingTimeInterval(3600)).map(\.uniqueKey) == ["cron:hourly:2026-11-24T04:00:00Z"]
        )
        // A firing is remembered per schedule: another's at the same instant hides nothing.
        var other = FiringMemo()
        other.enqueued(ScheduledFiring(schedule: "hourly", instant: due[0].instant, args: "", uniqueKey: ""))
        #expect(other.due(nightly, now: now).count == 2)

        // Kept while the longest window (50 h) and an hour more reach back to them.
        memo.forget(before: now, schedules: [nightly, hourly])
        #expect(memo.count == 4)
        // 30 h on, the horizon is 2026-11-23T06:00Z: the first midnight goes.
        let later = now.addingTimeInterval(30 * 3600)
        memo.forget(before: later, schedules: [nightly, hourly])
        #expect(memo.count == 3)
        #expect(memo.due(nightly, now: later).map(\.uniqueKey) == ["nightly:2026-11-24"])
    }
}
