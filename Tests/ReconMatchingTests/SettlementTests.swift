import ReconMatching
import Testing

@Suite struct SettlementTests {
    @Test func netIsGrossLessRefundsLessFees() {
        var totals = SettlementTotals()
        totals.add(amountFen: 5000, feeFen: 30)
        totals.add(amountFen: 12_345, feeFen: 74)
        totals.add(amountFen: -2000, feeFen: -12)
        #expect(totals == SettlementTotals(count: 3, grossFen: 17_345, refundsFen: 2000, feesFen: 92))
        #expect(totals.netFen == 17_345 - 2000 - 92)
    }

    @Test func onlyMatchedItemsThatMovedMoneyOnBothSidesSettle() {
        #expect(SettlementTotals.settles(.matched, legStatus: .success, channelMovedMoney: true))
        // A failed leg rightly absent from the bill is matched but moved nothing.
        #expect(!SettlementTotals.settles(.matched, legStatus: .failed, channelMovedMoney: nil))
        for status in MatchStatus.allCases where status != .matched {
            #expect(!SettlementTotals.settles(status, legStatus: .success, channelMovedMoney: true))
        }
    }

    @Test func theFileIsTheContractToTheByte() {
        let rows: [SettlementKey: SettlementTotals] = [
            SettlementKey(businessSystem: "mall", merchantID: "M2", channel: "wechatpay"): SettlementTotals(
                count: 2, grossFen: 5000, refundsFen: 2000, feesFen: 18),
            SettlementKey(businessSystem: "billing", merchantID: "M1", channel: "points"): SettlementTotals(
                count: 1, grossFen: 1000, refundsFen: 0, feesFen: 0),
            SettlementKey(businessSystem: "mall", merchantID: "M2", channel: "alipay"): SettlementTotals(
                count: 1, grossFen: 5, refundsFen: 10, feesFen: 0),
        ]
        #expect(
            SettlementCSV.text(rows) == """
                business_system,merchant_id,channel,count,gross,refunds,fees,net
                billing,M1,points,1,10.00,0.00,0.00,10.00
                mall,M2,alipay,1,0.05,0.10,0.00,-0.05
                mall,M2,wechatpay,2,50.00,20.00,0.18,29.82

                """)
    }

    @Test(
        arguments: [
            ("plain", "plain"), ("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-1", "'-1"), ("@cmd", "'@cmd"),
            ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("=a,b", "\"'=a,b\""),
            ("line\r\nbreak", "\"line\r\nbreak\""),
            ("测试", "测试"), ("", ""),
        ])
    func textFieldsAreQuotedAndNeutralized(text: String, expected: String) {
        #expect(CSVText.field(text) == expected)
    }

    /// Issue 14: the settlement file's text fields that a spreadsheet would run as a formula get a
    /// leading `'`; its amounts, negative ones too, stay plain numbers.
    @Test func theSettlementFileNeutralizesFormulaFields() {
        let rows: [SettlementKey: SettlementTotals] = [
            SettlementKey(businessSystem: "=HYPERLINK(\"http://x\",\"y\")", merchantID: "+M1", channel: "-bank"):
                SettlementTotals(count: 1, grossFen: 5, refundsFen: 10, feesFen: 0),
            SettlementKey(businessSystem: "@mall", merchantID: "M2", channel: "alipay"): SettlementTotals(
                count: 1, grossFen: 100, refundsFen: 0, feesFen: 1),
        ]
        #expect(
            SettlementCSV.text(rows) == """
                business_system,merchant_id,channel,count,gross,refunds,fees,net
                "'=HYPERLINK(""http://x"",""y"")",'+M1,'-bank,1,0.05,0.10,0.00,-0.05
                '@mall,M2,alipay,1,1.00,0.00,0.01,0.99

                """)
    }
}
