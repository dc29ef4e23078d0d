import ReconRecords
import Testing

@Suite struct ISOTimestampTests {
    /// 2026-11-23T01:15:07Z.
    static let instant: Int64 = 1_795_396_507_000_000

    @Test(
        arguments: [
            ("2026-11-23T09:15:07+08:00", instant), ("2026-11-23 09:15:07+08", instant),
            ("2026-11-23T09:15:07+0800", instant), ("2026-11-23T01:15:07Z", instant),
            ("2026-11-22T20:15:07-05:00", instant), ("2026-11-23T09:15:07.5+08:00", instant + 500_000),
            ("2026-11-23 09:15:07.123456+08", instant + 123_456),
        ])
    func offsetsAndFractionsAreExact(text: String, expected: Int64) {
        #expect(ISOTimestamp.microseconds(text) == .success(expected))
    }

    @Test(
        arguments: [
            ("2026-11-23T09:15:07", TimestampProblem.noOffset), ("2026-11-23", .shape),
            ("23/11/2026 09:15:07Z", .shape),
            ("2026-02-30T09:15:07Z", .outOfRange), ("2026-11-23T24:00:00Z", .outOfRange),
            ("2026-11-23T09:15:07.1234567Z", .tooPrecise), ("2026-11-23T09:15:07.Z", .shape),
            ("2026-11-23T09:15:07+8", .shape), ("2026-11-23T09:15:07+08:00 ", .shape),
        ])
    func anythingElseIsRefusedWithTheReason(text: String, problem: TimestampProblem) {
        #expect(ISOTimestamp.microseconds(text) == .failure(problem))
    }
}
