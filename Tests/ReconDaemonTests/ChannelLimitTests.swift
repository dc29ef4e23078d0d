import Foundation
import ReconHTTP
import ReconMockChannel
import ReconPostgres
import ReconTestSupport
import Testing

/// A channel's limits hold across every worker: the mock counts what it sees.
@Suite(.serialized) struct ChannelLimitTests {
    static func channel(_ name: String, base: String, concurrent: Int, perSecond: Int) -> String {
        """
        [[channel]]
        name = "\(name)"
        adapter = "bank_csv"
        merchant_id = "\(name)"
        url_template = "\(base)/bills/{merchant}/{date:%Y%m%d}.csv"
        sha256_suffix = ".sha256"
        limits = { concurrent_requests = \(concurrent), requests_per_second = \(perSecond) }

        """
    }

    func stats(_ base: String) async throws -> MockStats.Snapshot {
        let result = try await HTTPClient().send(HTTPRequest(url: base + "/admin/stats"))
        return try JSONDecoder().decode(MockStats.Snapshot.self, from: result.body)
    }

    @Test func fourWorkersNeverExceedTwoConcurrentRequestsOrTheRequestRate() async throws {
        let fixture = try await BillFixture(label: "limits")
        // Every download trickles (about half a second each), so unlimited fetches would overlap.
        try await fixture.startMock(lines: 300, faults: ["bank:*:slow:0:40000"])
        try fixture.writeJobFile(
            Self.channel("narrow", base: fixture.mockURL, concurrent: 2, perSecond: 8)
                + Self.channel("wide", base: fixture.mockURL, concurrent: 16, perSecond: 100))
        try await fixture.startDaemons(workers: 4, slots: 4)
        let dates = (1...8).map { String(format: "2026-10-%02d", $0) }

        var narrow: [Int64] = []
        for date in dates { narrow.append(try await fixture.enqueueFetch(channel: "narrow", date: date)) }
        for id in narrow { #expect(try await fixture.waitUntilFinished(id) == "completed") }
        let limited = try await stats(fixture.mockURL)
        #expect(limited.requests["bank"] == 16)  // a download and a sidecar per date
        #expect((limited.maxInFlight["bank"] ?? 99) <= 2, "the mock saw \(limited.maxInFlight) at once")
        // 16 starts at 8 per second take at least 15/8 s from the first to the last.
        let span = try await fixture.harness.pool.query(
            """
            SELECT (extract(epoch FROM max(started_at) - min(started_at)) * 1000)::int8 FROM bill_fetch_attempts
            WHERE channel = 'narrow'
            """
        ).first?.decode(Int64.self, at: 0)
        #expect((span ?? 0) >= 1800, "16 requests started within \(span ?? 0) ms")

        // The control: the same work on a channel with room for 16 does overlap, so the check above
        // can fail.
        _ = try await HTTPClient().send(HTTPRequest(method: .post, url: fixture.mockURL + "/admin/stats/reset"))
        var wide: [Int64] = []
        for date in dates { wide.append(try await fixture.enqueueFetch(channel: "wide", date: date)) }
        for id in wide { #expect(try await fixture.waitUntilFinished(id) == "completed") }
        #expect((try await stats(fixture.mockURL).maxInFlight["bank"] ?? 0) > 2)
        await fixture.stop()
    }
}
