import Foundation
import ReconCore
import Testing

@Suite struct CronScheduleTests {
    // MARK: Asia/Shanghai (UTC+8, no DST): the zone Recon's channels settle in.

    @Test func halfPastNineInShanghaiIsHalfPastOneUTC() throws {
        let schedule = try CronSchedule("30 9 * * *", timeZone: try zone("Asia/Shanghai"))
        #expect(schedule.nextFire(after: try utc("2026-11-23T00:00:00Z")) == (try utc("2026-11-23T01:30:00Z")))
        // Strictly after: at the fire time itself, the next one is a day later.
        #expect(schedule.nextFire(after: try utc("2026-11-23T01:30:00Z")) == (try utc("2026-11-24T01:30:00Z")))
    }

    @Test func firesOncePerLocalDayAcrossTheZonesMidnight() throws {
        let schedule = try CronSchedule("30 9 * * *", timeZone: try zone("Asia/Shanghai"))
        let fires = schedule.fires(between: try utc("2026-11-23T15:00:00Z"), and: try utc("2026-11-26T15:00:00Z"))
        #expect(iso(fires) == ["2026-11-24T01:30:00Z", "2026-11-25T01:30:00Z", "2026-11-26T01:30:00Z"])
    }

    @Test func localMidnightInShanghaiIsFourPMUTCTheDayBefore() throws {
        let schedule = try CronSchedule("0 0 * * *", timeZone: try zone("Asia/Shanghai"))
        let fire = try #require(schedule.nextFire(after: try utc("2026-11-23T12:00:00Z")))
        #expect(fire == (try utc("2026-11-23T16:00:00Z")))
        let local = schedule.localDate(of: fire)
        #expect(local.year == 2026 && local.month == 11 && local.day == 24)
        #expect(schedule.localDay(of: fire).previous.description == "2026-11-23")
    }

    @Test func fractionalSecondsAreHandledStrictly() throws {
        let schedule = try CronSchedule("30 9 * * *", timeZone: try zone("Asia/Shanghai"))
        let justBefore = try utc("2026-11-23T01:29:59Z").addingTimeInterval(0.5)
        #expect(schedule.nextFire(after: justBefore) == (try utc("2026-11-23T01:30:00Z")))
        let justAfter = try utc("2026-11-23T01:30:00Z").addingTimeInterval(0.5)
        #expect(schedule.nextFire(after: justAfter) == (try utc("2026-11-24T01:30:00Z")))
    }

    // MARK: Field syntax

    @Test func stepsRangesAndLists() throws {
        let utcZone = try zone("UTC")
        let day = (try utc("2026-11-23T00:00:00Z").addingTimeInterval(-1), try utc("2026-11-23T23:59:59Z"))

        let quarterHours = try CronSchedule("*/15 9-10 * * *", timeZone: utcZone)
        #expect(
            iso(quarterHours.fires(between: day.0, and: day.1)).map { String($0.dropFirst(11).prefix(5)) } == [
                "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45",
            ])

        let listAndHourStep = try CronSchedule("5,35 */6 * * *", timeZone: utcZone)
        #expect(
            iso(listAndHourStep.fires(between: day.0, and: day.1)).map { String($0.dropFirst(11).prefix(5)) } == [
                "00:05", "00:35", "06:05", "06:35", "12:05", "12:35", "18:05", "18:35",
            ])

        let steppedRange = try CronSchedule("10-20/5 3 * * *", timeZone: utcZone)
        #expect(
            iso(steppedRange.fires(between: day.0, and: day.1)).map { String($0.dropFirst(11).prefix(5)) } == [
                "03:10", "03:15", "03:20",
            ])

        let startAndStep = try CronSchedule("5/20 4 * * *", timeZone: utcZone)
        #expect(
            iso(startAndStep.fires(between: day.0, and: day.1)).map { String($0.dropFirst(11).prefix(5)) } == [
                "04:05", "04:25", "04:45",
            ])
    }

    @Test func monthAndWeekdayNamesInAnyCase() throws {
        let utcZone = try zone("UTC")
        let weekdaysOfJanuaryAndJuly = try CronSchedule("0 12 * jan,JUL Mon-Fri", timeZone: utcZone)
        // 2026-07-01 is a Wednesday; nothing between February and June matches.
        #expect(
            weekdaysOfJanuaryAndJuly.nextFire(after: try utc("2026-02-01T00:00:00Z"))
                == (try utc("2026-07-01T12:00:00Z")))
        // 2026-07-03 is a Friday, so the next is Monday the 6th.
        #expect(
            weekdaysOfJanuaryAndJuly.nextFire(after: try utc("2026-07-03T12:00:00Z"))
                == (try utc("2026-07-06T12:00:00Z")))
    }

    @Test func sundayIsZeroSevenOrSun() throws {
        let utcZone = try zone("UTC")
        let start = try utc("2026-11-01T00:00:00Z")
        let end = try utc("2026-11-30T23:59:59Z")
        let zero = try CronSchedule("0 0 * * 0", timeZone: utcZone).fires(between: start, and: end)
        let seven = try CronSchedule("0 0 * * 7", timeZone: utcZone).fires(between: start, and: end)
        let name = try CronSchedule("0 0 * * SUN", timeZone: utcZone).fires(between: start, and: end)
        let range = try CronSchedule("0 0 * * 6-7", timeZone: utcZone).fires(between: start, and: end)
        #expect(
            iso(zero) == [
                "2026-11-08T00:00:00Z", "2026-11-15T00:00:00Z", "2026-11-22T00:00:00Z",
                "2026-11-29T00:00:00Z",
            ])
        #expect(seven == zero)
        #expect(name == zero)
        #expect(range.count == 8)  // Saturdays 7, 14, 21, 28 and the Sundays
    }

    @Test func restrictedDayOfMonthAndDayOfWeekMatchEither() throws {
        let utcZone = try zone("UTC")
        let start = try utc("2026-10-01T00:00:00Z")
        let end = try utc("2026-10-31T23:59:59Z")
        // October 2026: Fridays are the 2nd, 9th, 16th, 23rd and 30th; the 13th is a Tuesday.
        let either = try CronSchedule("0 0 13 * 5", timeZone: utcZone).fires(between: start, and: end)
        #expect(iso(either).map { String($0.dropFirst(8).prefix(2)) } == ["02", "09", "13", "16", "23", "30"])
        let onlyDay = try CronSchedule("0 0 13 * *", timeZone: utcZone).fires(between: start, and: end)
        #expect(iso(onlyDay) == ["2026-10-13T00:00:00Z"])
        let onlyFridays = try CronSchedule("0 0 * * fri", timeZone: utcZone).fires(between: start, and: end)
        #expect(onlyFridays.count == 5)
    }

    @Test func aFieldStartingWithStarDoesNotTriggerTheOrRule() throws {
        // Vixie cron: `*/2` counts as unrestricted, so both fields must match (odd days that are
        // Fridays), not either.
        let schedule = try CronSchedule("0 0 */2 * 5", timeZone: try zone("UTC"))
        let fires = schedule.fires(between: try utc("2026-10-01T00:00:00Z"), and: try utc("2026-10-31T23:59:59Z"))
        #expect(iso(fires) == ["2026-10-09T00:00:00Z", "2026-10-23T00:00:00Z"])
    }

    // MARK: Daylight saving (America/New_York, 2026: spring forward 03-08, fall back 11-01)

    @Test func aWallTimeInTheSpringForwardGapIsSkippedThatDay() throws {
        let schedule = try CronSchedule("30 2 * * *", timeZone: try zone("America/New_York"))
        let fires = schedule.fires(between: try utc("2026-03-06T12:00:00Z"), and: try utc("2026-03-10T12:00:00Z"))
        // 02:30 EST on the 7th; no 02:30 on the 8th; 02:30 EDT on the 9th and 10th.
        #expect(iso(fires) == ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"])
        #expect(!fires.map { schedule.localDay(of: $0).description }.contains("2026-03-08"))
    }

    @Test func aRepeatedWallTimeFiresOnceAtItsFirstOccurrence() throws {
        let schedule = try CronSchedule("30 1 * * *", timeZone: try zone("America/New_York"))
        let fires = schedule.fires(between: try utc("2026-10-31T12:00:00Z"), and: try utc("2026-11-02T12:00:00Z"))
        // 01:30 EDT (05:30Z) on the 1st, not again at 01:30 EST (06:30Z); 01:30 EST on the 2nd.
        #expect(iso(fires) == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
        // From inside the repeated hour, the next fire is the next day's.
        #expect(schedule.nextFire(after: try utc("2026-11-01T06:10:00Z")) == (try utc("2026-11-02T06:30:00Z")))
    }

    @Test func hourlyJobsAcrossBothTransitions() throws {
        let hourly = try CronSchedule("0 * * * *", timeZone: try zone("America/New_York"))
        let spring = hourly.fires(between: try utc("2026-03-08T04:00:00Z"), and: try utc("2026-03-08T09:00:00Z"))
        // Local 00:00 and 01:00 EST, then 03:00, 04:00 and 05:00 EDT: there is no 02:00.
        #expect(
            iso(spring) == [
                "2026-03-08T05:00:00Z", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z",
                "2026-03-08T08:00:00Z", "2026-03-08T09:00:00Z",
            ])
        let autumn = hourly.fires(between: try utc("2026-11-01T03:00:00Z"), and: try utc("2026-11-01T09:00:00Z"))
        // Local 00:00 and 01:00 EDT, then 02:00, 03:00 and 04:00 EST: 01:00 EST (06:00Z) is a repeat.
        #expect(
            iso(autumn) == [
                "2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z",
                "2026-11-01T08:00:00Z", "2026-11-01T09:00:00Z",
            ])
    }

    // MARK: Rare and impossible dates

    @Test func impossibleDatesNeverFire() throws {
        let utcZone = try zone("UTC")
        let after = try utc("2026-01-01T00:00:00Z")
        #expect(try CronSchedule("0 0 30 2 *", timeZone: utcZone).nextFire(after: after) == nil)
        #expect(try CronSchedule("0 0 31 apr,jun,sep,nov *", timeZone: utcZone).nextFire(after: after) == nil)
        #expect(try CronSchedule("0 0 30 2 *", timeZone: utcZone).fires(between: after, and: .distantFuture).isEmpty)
    }

    @Test func rareDatesAreFoundYearsAhead() throws {
        let utcZone = try zone("UTC")
        let leapDay = try CronSchedule("0 0 29 2 *", timeZone: utcZone)
        #expect(leapDay.nextFire(after: try utc("2026-01-01T00:00:00Z")) == (try utc("2028-02-29T00:00:00Z")))
        let newYearsEve = try CronSchedule("59 23 31 12 *", timeZone: try zone("Asia/Shanghai"))
        #expect(newYearsEve.nextFire(after: try utc("2026-01-01T00:00:00Z")) == (try utc("2026-12-31T15:59:00Z")))
    }

    @Test func firesStopAtTheLimit() throws {
        let everyMinute = try CronSchedule("* * * * *", timeZone: try zone("Asia/Shanghai"))
        let start = try utc("2026-01-01T00:00:00Z")
        let fires = everyMinute.fires(between: start, and: try utc("2027-01-01T00:00:00Z"))
        #expect(fires.count == 10_000)
        #expect(fires.first == start.addingTimeInterval(60))
        #expect(fires.last == start.addingTimeInterval(60 * 10_000))
        #expect(everyMinute.fires(between: start, and: .distantFuture, limit: 3).count == 3)
    }

    @Test func unusableInstantsGiveNoFire() throws {
        let schedule = try CronSchedule("* * * * *", timeZone: try zone("UTC"))
        #expect(schedule.nextFire(after: Date(timeIntervalSince1970: .nan)) == nil)
        #expect(schedule.nextFire(after: Date(timeIntervalSince1970: .infinity)) == nil)
    }

    // MARK: Errors

    @Test(arguments: [
        ("61 * * * *", "field 1 (minute): 61 is out of range 0–59"),
        ("* 24 * * *", "field 2 (hour): 24 is out of range 0–23"),
        ("* * 0 * *", "field 3 (day of month): 0 is out of range 1–31"),
        ("* * * 13 *", "field 4 (month): 13 is out of range 1–12"),
        ("* * * * 8", "field 5 (day of week): 8 is out of range 0–7"),
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"),
        ("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"),
        ("", "expected 5 fields (minute hour day-of-month month day-of-week), found 0"),
        ("*/0 * * * *", "field 1 (minute): step 0 in `*/0` must be at least 1"),
        ("5-1 * * * *", "field 1 (minute): range 5-1 is reversed (5 is after 1)"),
        ("* * * foo *", "field 4 (month): `foo` is not a month number (1–12) or name (jan–dec)"),
        ("* * * * funday", "field 5 (day of week): `funday` is not a weekday number (0–7) or name (sun–sat)"),
        ("x * * * *", "field 1 (minute): `x` is not a number"),
        ("0 0 * mon *", "field 4 (month): `mon` is not a month number (1–12) or name (jan–dec)"),
        ("1,,2 * * * *", "field 1 (minute): empty item in list `1,,2`"),
        ("* * * * mon-", "field 5 (day of week): a range is missing one of its ends"),
        ("-5 * * * *", "field 1 (minute): a range is missing one of its ends"),
        ("*/2/3 * * * *", "field 1 (minute): `*/2/3` has more than one `/`"),
        ("*/x * * * *", "field 1 (minute): step `x` in `*/x` is not a number"),
        ("1-2-3 * * * *", "field 1 (minute): `1-2-3` is not a value or a range"),
        ("@daily", "`@daily` shortcuts are not supported; write the five fields"),
    ])
    func badExpressionsNameTheField(expression: String, message: String) throws {
        let error = #expect(throws: CronError.self) {
            try CronSchedule(expression, timeZone: try zone("UTC"))
        }
        #expect(error?.description == message)
    }

    @Test func errorsCarryTheFieldNumberAndName() {
        do {
            _ = try CronSchedule("0 24 * * *", timeZone: .gmt)
            Issue.record("expected an error")
        } catch {
            #expect(error.field == 2)
            #expect(error.fieldName == "hour")
            #expect(error.reason == "24 is out of range 0–23")
        }
    }

    @Test func tabsSeparateFieldsAndTheExpressionIsKept() throws {
        let schedule = try CronSchedule("30\t9 * *  *", timeZone: try zone("Asia/Shanghai"))
        #expect(schedule.expression == "30\t9 * *  *")
        #expect(schedule.description == "30\t9 * *  * (Asia/Shanghai)")
        #expect(schedule.nextFire(after: try utc("2026-11-23T00:00:00Z")) == (try utc("2026-11-23T01:30:00Z")))
    }
}
