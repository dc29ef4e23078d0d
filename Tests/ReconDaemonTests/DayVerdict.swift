import Foundation
import ReconFixtures
import ReconJobs
import ReconTestSupport

/// How a trial's day compares with a clean run's (issue 14): the report rows the generator
/// expects, each once; the same settlement bytes; no bill line staged twice. RELIABILITY.md's
/// columns come from here.
struct DayVerdict: CustomStringConvertible {
    var rows = 0
    var expected = 0
    /// Expected rows that are not in the report.
    var lost = 0
    /// Rows beyond the expected ones: a row twice, or one the generator does not know.
    var extra = 0
    var virtualSame = false
    var settlementSame = false
    var stagedTwice: Int64 = 0

    var isClean: Bool {
        lost == 0 && extra == 0 && rows == expected && virtualSame && settlementSame && stagedTwice == 0
    }

    var description: String {
        "report rows \(rows)/\(expected), lost \(lost), extra \(extra), virtual \(virtualSame ? "same" : "DIFFERENT"), "
            + "settlement \(settlementSame ? "same" : "DIFFERENT"), staged twice \(stagedTwice)"
    }

    static func of(_ setup: DayRunTests.Setup, _ synthetic: SyntheticDay, prior: SyntheticDay.Prior = .none)
        async throws -> DayVerdict
    {
        let day = synthetic.day
        let results = synthetic.expectedResults(prior: prior)
        var verdict = DayVerdict()
        let rows = try DayRunTests.reportLines(setup, day, virtual: false)
        let expected = DayRunTests.expectedReport(results, virtual: false)
        verdict.rows = rows.count
        verdict.expected = expected.count
        verdict.lost = Set(expected).subtracting(rows).count
        verdict.extra = rows.count - (expected.count - verdict.lost)
        let virtualRows = try DayRunTests.reportLines(setup, day, virtual: true)
        verdict.virtualSame = virtualRows.sorted() == DayRunTests.expectedReport(results, virtual: true)
        let settlement = try? String(contentsOfFile: "\(setup.settlements)/settlement-\(day).csv", encoding: .utf8)
        verdict.settlementSame = settlement == DayRunTests.expectedSettlement(results)
        // A bill line staged twice under another line number, or a channel-day holding other lines
        // than its fetch recorded: each counts.
        verdict.stagedTwice = try await setup.fixture.harness.count(
            """
            SELECT (SELECT count(*) - count(DISTINCT (channel, channel_txn_id, match_refund_key))
                    FROM staged_bill_lines WHERE bill_date = $1)
                 + (SELECT coalesce(sum(abs(f.lines - (SELECT count(*) FROM staged_bill_lines s
                        WHERE s.channel = f.channel AND s.bill_date = f.bill_date))), 0)::int8
                    FROM bill_fetches f WHERE f.bill_date = $1)
            """, [day.pgDate])
        return verdict
    }
}
