import Testing

@testable import ReconCore

@Suite struct MoneyTests {
    @Test(
        arguments: [
            ("12.34", 1234), ("12.3", 1230), ("12", 1200), ("0.01", 1), ("-20.00", -2000), ("-0.00", 0), ("0", 0),
            ("50.00", 5000), ("92233720368547758.07", Int64.max),
        ] as [(String, Int64)])
    func yuanTextBecomesExactFen(text: String, fen: Int64) throws {
        #expect(try Money.fen(fromYuan: text) == fen)
    }

    @Test(arguments: [
        ("12.345", "more than 2 decimal places"), ("1e3", "exponents"), ("12,34", "comma"), ("", "no digits"),
        ("-", "no digits"), ("12.", "no digits after"), (".5", "no digits before"), ("1.2.3", "two decimal points"),
        ("+5", "contains '+'"), (" 5", "contains ' '"), ("¥5", "contains"), ("92233720368547758.08", "too large"),
        ("99999999999999999999", "too large"),
    ])
    func badAmountsAreRefusedSayingWhy(text: String, reason: String) {
        let error = #expect(throws: Money.ParseError.self) { try Money.fen(fromYuan: text) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.text == text)
    }

    @Test func weChatFeesKeepFiveDecimalsUntilRounded() throws {
        #expect(try Money.scaled("0.30000", decimals: 5) == 30_000)
        #expect(try Money.scaled("-0.12000", decimals: 5) == -12_000)
        #expect(try Money.scaled("0.00125", decimals: 5) == 125)
        #expect(throws: Money.ParseError.self) { try Money.scaled("0.000001", decimals: 5) }
        #expect(Money.roundToFen(30_000, decimals: 5) == 30)
        #expect(Money.roundToFen(1_500, decimals: 5) == 2)
        #expect(Money.roundToFen(1_499, decimals: 5) == 1)
        #expect(Money.roundToFen(-1_500, decimals: 5) == -2)
        #expect(Money.roundToFen(-1_499, decimals: 5) == -1)
        #expect(Money.roundToFen(7, decimals: 2) == 7)
    }

    @Test func fenPrintsAsYuan() {
        #expect(Money.yuanText(fen: 1234) == "12.34")
        #expect(Money.yuanText(fen: -5) == "-0.05")
        #expect(Money.yuanText(fen: 0) == "0.00")
        #expect(Money.yuanText(fen: Int64.min) == "-92233720368547758.08")
    }
}
