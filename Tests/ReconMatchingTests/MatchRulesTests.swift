import ReconMatching
import Testing

/// Issue 12, §3: every row of the rules table, and the order in which they apply.
@Suite struct MatchRulesTests {
    /// 2026-11-23 00:00 Beijing is 2026-11-22 16:00 UTC.
    static let dayStart: Int64 = 1_795_363_200_000_000 - 8 * 3_600_000_000
    static let window = CarryWindow(
        dayStart: dayStart, nextDayStart: dayStart + 86_400_000_000, widthMicroseconds: 300_000_000)
    static let noon = dayStart + 12 * 3_600_000_000
    static let key = MatchKey(transactionID: "2026112322000000000000000001")

    static func line(
        amount: Int64 = 5000, fee: Int64 = 30, moved: Bool = true, at time: Int64 = noon
    ) -> ChannelSide {
        ChannelSide(key: key, amountFen: amount, feeFen: fee, movedMoney: moved, timeMicroseconds: time, lineNumber: 7)
    }

    static func leg(
        amount: Int64 = 5000, fee: Int64 = 30, status: LegStatus = .success, at time: Int64 = noon
    ) -> InternalSide {
        InternalSide(
            legID: "L1", key: key, amountFen: amount, feeFen: fee, status: status, occurredAtMicroseconds: time)
    }

    @Test(
        arguments: [
            // Both sides: amount first, then status, then fee.
            ("agree", MatchItem.pair(line(), leg()), MatchStatus.matched),
            ("amounts differ", .pair(line(amount: 5000), leg(amount: 4999)), .amountMismatch),
            ("amounts and statuses differ", .pair(line(amount: 1), leg(amount: 2, status: .failed)), .amountMismatch),
            ("we say failed, channel charged", .pair(line(), leg(status: .failed)), .statusMismatch),
            ("we say closed, channel charged", .pair(line(), leg(status: .closed)), .statusMismatch),
            ("we say pending, channel charged", .pair(line(), leg(status: .pending)), .statusMismatch),
            ("we say paid, channel closed", .pair(line(moved: false), leg()), .statusMismatch),
            ("statuses and fees differ", .pair(line(fee: 1, moved: false), leg(fee: 2)), .statusMismatch),
            ("fees differ", .pair(line(fee: 30), leg(fee: 29)), .feeMismatch),
            ("both say failed", .pair(line(moved: false), leg(status: .failed)), .matched),
            // Bill line alone.
            ("line at 00:00:00", .channelOnly(line(at: dayStart)), .carriedOver),
            ("line at 00:04:59.999999", .channelOnly(line(at: dayStart + 299_999_999)), .carriedOver),
            ("line at 00:05:00", .channelOnly(line(at: dayStart + 300_000_000)), .channelOnly),
            ("line at noon", .channelOnly(line()), .channelOnly),
            ("line at 23:59:59", .channelOnly(line(at: dayStart + 86_399_000_000)), .channelOnly),
            // Leg alone.
            ("paid leg at 23:55:00", .legOnly(leg(at: dayStart + 86_100_000_000)), .carriedOver),
            ("pending leg at 23:59:59", .legOnly(leg(status: .pending, at: dayStart + 86_399_000_000)), .carriedOver),
            ("paid leg at 23:54:59", .legOnly(leg(at: dayStart + 86_099_000_000)), .internalOnly),
            ("paid leg at 00:00:00", .legOnly(leg(at: dayStart)), .internalOnly),
            ("pending leg at noon", .legOnly(leg(status: .pending)), .internalOnly),
            ("failed leg at noon", .legOnly(leg(status: .failed)), .matched),
            ("closed leg at 23:58", .legOnly(leg(status: .closed, at: dayStart + 86_280_000_000)), .matched),
        ])
    func theFirstRuleThatFitsDecides(name: String, item: MatchItem, expected: MatchStatus) {
        #expect(MatchRules.decide(item, window: Self.window) == expected, "\(name)")
    }

    /// A carried item compared again the next day is not carried a second time.
    @Test func withoutAWindowNothingIsCarried() {
        #expect(MatchRules.decide(.channelOnly(Self.line(at: Self.dayStart)), window: nil) == .channelOnly)
        #expect(
            MatchRules.decide(.legOnly(Self.leg(at: Self.dayStart + 86_100_000_000)), window: nil) == .internalOnly)
        #expect(MatchRules.decide(.pair(Self.line(), Self.leg()), window: nil) == .matched)
    }

    @Test func theStatusWordsAreTheContract() {
        #expect(
            MatchStatus.allCases.map(\.rawValue) == [
                "matched", "amount_mismatch", "status_mismatch", "fee_mismatch", "channel_only", "internal_only",
                "carried_over",
            ])
        #expect(MatchStatus.allCases.filter(\.isDiscrepancy).count == 6)
    }

    @Test func onlyFailedOrClosedBankStatusesMeanNoMoneyMoved() {
        #expect(ChannelSide.movedMoney(channelStatus: nil))
        #expect(ChannelSide.movedMoney(channelStatus: "SUCCESS"))
        #expect(ChannelSide.movedMoney(channelStatus: "REFUND"))
        #expect(ChannelSide.movedMoney(channelStatus: "交易"))
        #expect(!ChannelSide.movedMoney(channelStatus: "FAILED"))
        #expect(!ChannelSide.movedMoney(channelStatus: "closed"))
    }
}
