import Foundation
import ReconConfig
import ReconCore
import Testing

/// `ready_after` and `deadline` are wall times in the channel's zone, turned into instants with the
/// zone's offset on the day in question, never with one offset taken when the file was read.
@Suite struct ChannelTimeZoneTests {
    func channel(zone: String, readyAfter: String, deadline: String) throws -> ChannelDefinition {
        let text = """
            [[channel]]
            name = "bank-a"
            adapter = "bank_csv"
            url_template = "https://bank.example/{date}.csv"
            time_zone = "\(zone)"
            ready_after = "\(readyAfter)"
            deadline = "\(deadline)"
            """
        return try #require(try JobFile.parse(text, file: "channels.toml").channels.first)
    }

    /// Microseconds since 1970 of a UTC wall time.
    static func utc(_ text: String) throws -> Int64 {
        try #require(LocalTime.parse(text)) * 1_000_000
    }

    @Test(arguments: [
        // (zone, bill date, ready_after, deadline, ready in UTC, deadline in UTC)
        ("Asia/Shanghai", "2026-11-23", "10:00", "14:30", "2026-11-24 02:00:00", "2026-11-24 06:30:00"),
        // Winter and summer in Berlin: one hour apart in UTC, whenever the file was read.
        ("Europe/Berlin", "2026-01-14", "09:00", "14:00", "2026-01-15 08:00:00", "2026-01-15 13:00:00"),
        ("Europe/Berlin", "2026-07-14", "09:00", "14:00", "2026-07-15 07:00:00", "2026-07-15 12:00:00"),
        // Clocks go forward at 02:00 on 29 March: midnight is +01:00, 09:00 is already +02:00.
        ("Europe/Berlin", "2026-03-28", "09:00", "14:00", "2026-03-29 07:00:00", "2026-03-29 12:00:00"),
        // 02:30 does not exist that night: it is read as 03:30 after the gap.
        ("Europe/Berlin", "2026-03-28", "02:30", "14:00", "2026-03-29 01:30:00", "2026-03-29 12:00:00"),
        // Clocks go back at 03:00 on 25 October: 01:00 is still +02:00, 09:00 is +01:00.
        ("Europe/Berlin", "2026-10-24", "01:00", "09:00", "2026-10-24 23:00:00", "2026-10-25 08:00:00"),
        ("America/New_York", "2026-03-07", "01:00", "09:00", "2026-03-08 06:00:00", "2026-03-08 13:00:00"),
    ])
    func readyAndDeadlineUseTheOffsetOfTheirOwnWallTime(
        zone: String, date: String, readyAfter: String, deadline: String, ready: String, late: String
    ) throws {
        let channel = try channel(zone: zone, readyAfter: readyAfter, deadline: deadline)
        let times = channel.readyAndDeadline(for: try #require(LocalDay(date)))
        #expect(times.ready == (try Self.utc(ready)), "ready of \(date) in \(zone)")
        #expect(times.deadline == (try Self.utc(late)), "deadline of \(date) in \(zone)")
    }
}
