import Foundation
import ReconMatching
import ReconReconcile
import Testing

/// A channel's business-day zone is asked at each leg's instant, never once for the whole import.
@Suite struct ChannelKeyingTests {
    @Test(arguments: [
        // (instant, seconds since 1970; Berlin's offset then)
        (Int64(1_768_435_200), Int64(3600)),  // 2026-01-15 00:00 UTC: winter
        (1_784_073_600, 7200),  // 2026-07-15 00:00 UTC: summer
        (1_774_745_999, 3600),  // 2026-03-29 00:59:59 UTC: the second before clocks go forward
        (1_774_746_000, 7200),  // 2026-03-29 01:00:00 UTC: after
    ])
    func aZonesOffsetIsTheOneOfTheLegsInstant(instant: Int64, offset: Int64) throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let keying = RecordImporter.ChannelKeying(rule: .sharedTransactionID, timeZone: berlin)
        #expect(keying.utcOffsetSeconds(at: instant) == offset)
        let fixed = RecordImporter.ChannelKeying(rule: .sharedTransactionID, utcOffsetSeconds: 8 * 3600)
        #expect(fixed.utcOffsetSeconds(at: instant) == 8 * 3600)
    }
}
