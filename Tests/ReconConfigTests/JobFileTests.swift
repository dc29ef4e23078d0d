import Foundation
import ReconCore
import Testing

@testable import ReconConfig

@Suite struct JobFileTests {
    static let file = """
        # Daily reconciliation, as an operator would write it.
        [[schedule]]
        name = "daily-reconciliation"
        cron = "30 9 * * *"
        time_zone = "Asia/Shanghai"
        kind = "run_day"
        args = { business_day = "{yesterday}", channels = ["alipay", "wechatpay"], shards = 8 }
        unique_key = "run_day:{yesterday}"
        catch_up = "36h"
        retry = { max_attempts = 5, base = "30s", cap = "15m" }

        [[schedule]]
        name = "hourly-probe"
        cron = "0 * * * *"
        time_zone = "UTC"
        kind = "probe"
        """

    @Test func schedulesReadWithTheirJobAndPlaceholders() throws {
        let schedules = try JobFile.schedules(in: JobFileTests.file, file: "jobs/daily.toml")
        #expect(schedules.map(\.name) == ["daily-reconciliation", "hourly-probe"])
        let daily = schedules[0]
        #expect(daily.retry == RetryPolicy(maxAttempts: 5, baseMilliseconds: 30_000, capMilliseconds: 900_000))
        #expect(daily.catchUpMilliseconds == 36 * 3_600_000)
        #expect(daily.line == 2)
        // 2026-11-24 09:30 in Shanghai is 01:30 UTC; "yesterday" is the 23rd there.
        let fire = try #require(ISO8601DateFormatter().date(from: "2026-11-24T01:30:00Z"))
        #expect(daily.schedule.nextFire(after: fire.addingTimeInterval(-60)) == fire)
        let firing = daily.firing(at: fire)
        #expect(firing.uniqueKey == "run_day:2026-11-23")
        let args = try JSONSerialization.jsonObject(with: Data(firing.args.utf8)) as? [String: Any]
        #expect(args?["business_day"] as? String == "2026-11-23")
        #expect(args?["channels"] as? [String] == ["alipay", "wechatpay"])
        #expect(args?["shards"] as? Int == 8)
        let probe = schedules[1]
        #expect(probe.firing(at: fire).uniqueKey == "cron:hourly-probe:2026-11-24T01:30:00Z")
        #expect(probe.catchUpMilliseconds == 86_400_000)
        #expect(probe.firing(at: fire).args == "{}")
    }

    @Test(arguments: [
        ("cron = \"30 25 * * *\"", "jobs/x.toml:3:", "field 2 (hour)"),
        ("time_zone = \"Mars/Olympus\"", "jobs/x.toml:4:", "unknown time zone"),
        ("catch_up = \"soon\"", "jobs/x.toml:6:", "`schedule[0].catch_up` must be a duration"),
        ("catch_up = \"400d\"", "jobs/x.toml:6:", "`schedule[0].catch_up` must be between 0 ms and 31622400 s"),
        ("retry = { cap = \"100000d\" }", "jobs/x.toml:6:", "`schedule[0].retry.cap` must be between"),
        ("retry = { base = 5 }", "jobs/x.toml:6:", "`schedule[0].retry.base` must be a string"),
        ("retry = { max_atempts = 5 }", "jobs/x.toml:6:", "unknown key `schedule[0].retry.max_atempts`"),
        ("queues = \"q\"", "jobs/x.toml:6:", "unknown key `schedule[0].queues`"),
        ("args = \"x\"", "jobs/x.toml:6:", "must be a table"),
    ])
    func badSchedulesNameFileLineAndKey(change: String, location: String, message: String) throws {
        var lines = ["[[schedule]]", "name = \"n\"", "cron = \"0 0 * * *\"", "time_zone = \"UTC\"", "kind = \"probe\""]
        if let key = change.split(separator: " ").first,
            let index = lines.firstIndex(where: { $0.hasPrefix(key + " ") })
        {
            lines[index] = change
        } else {
            lines.append(change)
        }
        let error = try #require(throws: TOMLError.self) {
            try JobFile.schedules(in: lines.joined(separator: "\n"), file: "jobs/x.toml")
        }
        #expect(error.description.hasPrefix(location), "\(error)")
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func durationsAreWholeNumbersWithAUnit() {
        #expect(DurationText.milliseconds("500ms") == 500)
        #expect(DurationText.milliseconds("90s") == 90_000)
        #expect(DurationText.milliseconds("10m") == 600_000)
        #expect(DurationText.milliseconds("36h") == 129_600_000)
        #expect(DurationText.milliseconds("2d") == 172_800_000)
        for bad in ["", "s", "1.5h", "-1s", "10", "10 s", "99999999999999999999d"] {
            #expect(DurationText.milliseconds(bad) == nil, "\(bad)")
        }
    }
}
