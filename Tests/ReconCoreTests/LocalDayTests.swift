import Foundation
import ReconCore
import Testing

@Suite struct LocalDayTests {
    @Test func parsesAndPrintsISODates() throws {
        let day = try #require(LocalDay("2026-11-23"))
        #expect(day.year == 2026 && day.month == 11 && day.day == 23)
        #expect(day.description == "2026-11-23")
        #expect(LocalDay(year: 33, month: 1, day: 5)?.description == "0033-01-05")
    }

    @Test(arguments: ["2026-02-30", "2026-13-01", "2026-2-03", "2026-02-3", "20260203", "2026-02-0x", "", "0000-01-01"])
    func rejectsMalformedOrImpossibleDates(text: String) {
        #expect(LocalDay(text) == nil)
    }

    @Test func stepsAcrossMonthsYearsAndLeapDays() throws {
        #expect(try #require(LocalDay("2026-03-01")).previous.description == "2026-02-28")
        #expect(try #require(LocalDay("2028-03-01")).previous.description == "2028-02-29")
        #expect(try #require(LocalDay("2027-01-01")).previous.description == "2026-12-31")
        #expect(try #require(LocalDay("2026-12-31")).adding(days: 1).description == "2027-01-01")
        #expect(try #require(LocalDay("2026-11-23")).adding(days: 400).description == "2027-12-28")
        #expect(try #require(LocalDay("1969-12-31")).adding(days: 1).description == "1970-01-01")
    }

    @Test func weekdaysCountFromSunday() throws {
        #expect(try #require(LocalDay("2026-11-01")).weekday == 0)
        #expect(try #require(LocalDay("2026-11-06")).weekday == 5)
        #expect(try #require(LocalDay("1970-01-01")).weekday == 4)
    }

    @Test func comparesAndCodesAsAString() throws {
        let earlier = try #require(LocalDay("2026-11-23"))
        let later = try #require(LocalDay("2026-12-01"))
        #expect(earlier < later)
        let data = try JSONEncoder().encode([earlier])
        #expect(String(decoding: data, as: UTF8.self) == "[\"2026-11-23\"]")
        #expect(try JSONDecoder().decode([LocalDay].self, from: data) == [earlier])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([LocalDay].self, from: Data("[\"2026-02-30\"]".utf8))
        }
    }
}
