import Foundation
import ReconBills
import ReconCore
import ReconFixtures
import ReconMatching
import ReconRecords
import Testing

/// Everything one pass over a synthetic day wrote, in memory.
final class RenderedDay {
    var bills: [String: [UInt8]] = [:]
    var payments: [UInt8] = []
    var ledger: [UInt8] = []
    var expected: [ExpectedResult] = []
    var summary = SyntheticDaySummary(channels: 0)

    init(_ day: SyntheticDay, prior: SyntheticDay.Prior = .none) throws {
        summary = try day.write(
            prior: prior,
            bill: { index, part in
                let name = Self.name(index, part)
                return { [unowned self] bytes in self.bills[name, default: []] += bytes }
            },
            payments: { [unowned self] in self.payments += $0 }, ledger: { [unowned self] in self.ledger += $0 },
            expected: { self.expected.append($0) })
    }

    static func name(_ index: Int, _ part: SyntheticBillPart) -> String { "\(index)-\(part)" }

    func bill(_ index: Int, _ part: SyntheticBillPart = .bill) -> [UInt8] { bills[Self.name(index, part)] ?? [] }
}

/// How each adapter keys its refunds (issue 12, §2), written out here rather than taken from the
/// fixtures, so the tests check the generator against the contract.
func rule(_ adapter: SyntheticChannel.Adapter) -> KeyRule {
    adapter == .unionpay ? .ownTransactionID : .sharedTransactionID
}

/// A parsed bill line with its channel.
struct ParsedLine {
    var channel: String
    var line: BillLine
    var key: MatchKey
}

/// Parses every channel's bill with the real parser and keys each line as `StagedBill` does.
func parseBills(_ rendered: RenderedDay, _ day: SyntheticDay) throws -> [ParsedLine] {
    var parsed: [ParsedLine] = []
    for (index, channel) in day.channels.enumerated() {
        var lines: [BillLine] = []
        func run<Parser: BillParser>(_ parser: inout Parser) throws {
            try parser.feed(rendered.bill(index)) { lines.append($0) }
            try parser.finish { lines.append($0) }
        }
        switch channel.adapter {
        case .alipay:
            var parser = AlipayDetailsParser(
                file: "details", channel: channel.name, billDate: day.day, accountID: channel.alipayAccountID)
            try run(&parser)
            try parser.check(against: try AlipaySummary.parse(rendered.bill(index, .alipaySummary), file: "summary"))
        case .wechatpay:
            var parser = WeChatBillParser(
                file: "wechat", channel: channel.name, billDate: day.day, merchantID: channel.merchant)
            try run(&parser)
        case .unionpay:
            var parser = UnionPayZMParser(
                file: "zm", channel: channel.name, billDate: day.day, merchantID: channel.merchant)
            try run(&parser)
        case .bankCSV:
            var parser = BankCSVParser(file: "bank", channel: channel.name, billDate: day.day)
            try run(&parser)
        }
        for line in lines {
            let key = MatchKey(
                transactionID: line.channelTransactionID, refundID: line.refundID, isRefund: line.kind == .refund,
                rule: rule(channel.adapter))
            parsed.append(ParsedLine(channel: channel.name, line: line, key: key))
        }
    }
    return parsed
}

/// Reads a CSV file with `CSVRecordReader`: the header checked, then every row.
func readRecords<Row>(
    _ bytes: [UInt8], header: ([[UInt8]], Int) throws(RecordProblem) -> Void,
    row: ([[UInt8]], Int) throws(RecordProblem) -> Row
) throws -> [Row] {
    var records: [CSVRecordReader.Record] = []
    var reader = CSVRecordReader()
    try reader.feed(bytes) { records.append($0) }
    try reader.finish { records.append($0) }
    guard let first = records.first else { throw RecordProblem(line: 1, column: nil, message: "no header") }
    try header(first.fields, first.line)
    var rows: [Row] = []
    for record in records.dropFirst() { rows.append(try row(record.fields, record.line)) }
    return rows
}

func parseLegs(_ rendered: RenderedDay, _ day: SyntheticDay) throws -> [PaymentLegRecord] {
    let file = PaymentsFile(
        channels: Dictionary(uniqueKeysWithValues: day.channels.map { ($0.name, rule($0.adapter)) }))
    return try readRecords(rendered.payments, header: PaymentsFile.checkHeader, row: file.record)
}

func parseLedger(_ rendered: RenderedDay) throws -> [LedgerEntryRecord] {
    try readRecords(rendered.ledger, header: LedgerFile.checkHeader, row: LedgerFile.record)
}

func testDay() throws -> LocalDay { try #require(LocalDay(year: 2026, month: 11, day: 23)) }

@Suite struct SyntheticDayTests {
    @Test func theSameSeedWritesTheSameBytesAndAnotherSeedOthers() throws {
        let day = SyntheticDay(seed: 42, day: try testDay(), linesPerChannel: 300)
        let first = try RenderedDay(day)
        let second = try RenderedDay(day)
        #expect(first.bills == second.bills)
        #expect(first.payments == second.payments && first.ledger == second.ledger)
        #expect(first.expected == second.expected)
        #expect(first.bills.count == 5)
        let other = try RenderedDay(SyntheticDay(seed: 43, day: try testDay(), linesPerChannel: 300))
        #expect(other.payments != first.payments)
        for (name, bytes) in first.bills { #expect(other.bills[name] != bytes, "\(name)") }
    }

    @Test(arguments: [50, 1000])
    func eachChannelHasExactlyTheLinesAskedFor(lines: Int) throws {
        let day = SyntheticDay(seed: 7, day: try testDay(), linesPerChannel: lines)
        let rendered = try RenderedDay(day)
        #expect(rendered.summary.lines == Array(repeating: lines, count: day.channels.count))
        #expect(try parseBills(rendered, day).count == lines * day.channels.count)
    }

    @Test func thePaymentsAndLedgerFilesParseAndHoldEveryExpectedLegAndEntry() throws {
        let day = SyntheticDay(seed: 11, day: try testDay(), linesPerChannel: 400)
        let rendered = try RenderedDay(day)
        let legs = try parseLegs(rendered, day)
        let entries = try parseLedger(rendered)
        #expect(legs.count == rendered.summary.legs && entries.count == rendered.summary.entries)
        let legIDs = Set(legs.map(\.legID))
        let entryIDs = Set(entries.map(\.entryID))
        #expect(legIDs.count == legs.count, "leg ids are unique")
        #expect(entryIDs.count == entries.count, "entry ids are unique")
        for result in rendered.expected {
            if let legID = result.legID { #expect(legIDs.contains(legID), "\(legID)") }
            if let entryID = result.entryID { #expect(entryIDs.contains(entryID), "\(entryID)") }
        }
        // Every leg of the file occurred on the day, in Beijing; every virtual leg has no channel.
        let start = (Int64(day.day.dayNumber) * 86_400 - 8 * 3600) * 1_000_000
        for leg in legs {
            #expect((start..<start + 86_400_000_000).contains(leg.occurredAtMicroseconds), "\(leg.legID)")
            #expect((leg.kind == .channel) == (leg.channel != nil))
        }
        // At least two business systems and two merchants.
        #expect(Set(legs.map(\.businessSystem)).count >= 2 && Set(legs.map(\.merchantID)).count >= 2)
        // A combination payment: one order with a channel leg and virtual legs.
        let byOrder = Dictionary(grouping: legs, by: \.orderID)
        #expect(byOrder.values.contains { order in Set(order.map(\.kind)) == [.channel, .preDeposit, .points] })
    }

    @Test func everyChannelSideHasExactlyOneParsedLineWithItsAmountAndFee() throws {
        let day = SyntheticDay(seed: 5, day: try testDay(), linesPerChannel: 400)
        let rendered = try RenderedDay(day)
        let parsed = try parseBills(rendered, day)
        #expect(parsed.allSatisfy { $0.line.flag == nil }, "\(parsed.compactMap(\.line.flag).prefix(3))")
        var byKey: [String: [ParsedLine]] = [:]
        for line in parsed { byKey["\(line.channel) \(line.key)", default: []].append(line) }
        let withLine = rendered.expected.filter { !$0.isVirtual && $0.channelAmountFen != nil }
        #expect(withLine.count == parsed.count)
        for result in withLine {
            let key = MatchKey(transactionID: result.channelTxnID, refundID: result.refundKey)
            let lines = byKey["\(result.channel) \(key)"] ?? []
            #expect(lines.count == 1, "\(result.channel) \(key)")
            guard let line = lines.first?.line else { continue }
            #expect(line.amountFen == result.channelAmountFen && line.feeFen == result.channelFeeFen, "\(key)")
        }
    }

    @Test func anIndependentJoinReproducesTheExpectedResultsOfADayAlone() throws {
        let day = SyntheticDay(seed: 99, day: try testDay(), linesPerChannel: 300)
        let rendered = try RenderedDay(day)
        let joined = try IndependentMatcher.run(rendered, day, carried: .init())
        Self.compare(joined.results, rendered.expected)
    }

    @Test func anIndependentJoinReproducesTheExpectedResultsOfDaysReconciledInSequence() throws {
        let last = SyntheticDay(seed: 2026, day: try testDay(), linesPerChannel: 200)
        var carried = IndependentMatcher.Carried()
        let priors: [SyntheticDay.Prior] = [.none, .previousDayOnly, .everyPreviousDay]
        for (offset, prior) in priors.enumerated() {
            let day = last.on(last.day.adding(days: offset - 2))
            let rendered = try RenderedDay(day, prior: prior)
            let joined = try IndependentMatcher.run(rendered, day, carried: carried)
            Self.compare(joined.results, rendered.expected, "\(day.day) after \(prior)")
            carried = joined.carried
            #expect(!carried.legs.isEmpty && !carried.lines.isEmpty)
        }
        // The files of a day do not depend on what was reconciled before it.
        #expect(
            try RenderedDay(last, prior: .none).payments == (try RenderedDay(last, prior: .everyPreviousDay)).payments)
    }

    @Test func aTinyDayHoldsEveryStatusForChannelsAndVirtualAccounts() throws {
        let day = SyntheticDay(seed: 1, day: try testDay(), linesPerChannel: 50)
        for prior in [SyntheticDay.Prior.none, .everyPreviousDay] {
            let expected = try RenderedDay(day, prior: prior).expected
            for index in day.channels.indices {
                let name = day.channels[index].name
                let statuses = Set(expected.filter { $0.channel == name }.map(\.status))
                #expect(statuses == Set(MatchStatus.allCases), "\(name) after \(prior): \(statuses)")
            }
            let virtual = Set(expected.filter(\.isVirtual).map(\.status))
            #expect(virtual == [.matched, .amountMismatch, .statusMismatch, .internalOnly, .channelOnly])
            // Refunds on each channel, among them one of a payment of the day before.
            #expect(expected.filter { !$0.isVirtual && ($0.internalAmountFen ?? 0) < 0 }.count >= 2 * 4)
        }
    }

    @Test func discrepanciesComeAtAboutTheRateAsked() throws {
        let channel = [SyntheticChannel.standard[1]]
        for (perMille, range) in [(5, 0.002...0.012), (100, 0.06...0.14)] {
            let day = SyntheticDay(
                seed: 3, day: try testDay(), channels: channel, linesPerChannel: 20_000, discrepancyPerMille: perMille)
            var total = 0
            var discrepancies = 0
            for item in day.items(channel: 0) {
                total += item.expected.count
                discrepancies += item.expected.filter { $0.status.isDiscrepancy }.count
            }
            let rate = Double(discrepancies) / Double(total)
            #expect(range.contains(rate), "\(perMille)‰ gave \(rate)")
        }
    }

    @Test func theFilesGoWhereTheMockServesThemAsGiven() throws {
        let folder = NSTemporaryDirectory() + "synthetic-day-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let day = SyntheticDay(seed: 8, day: try testDay(), linesPerChannel: 60)
        // What the mock made of an earlier bill of the day goes; other days stay.
        let stale = "\(folder)/data/unionpay/802310048993424/20261123.zip"
        let otherDay = "\(folder)/data/unionpay/802310048993424/20261122.zm"
        try FileManager.default.createDirectory(
            atPath: "\(folder)/data/unionpay/802310048993424", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: stale, contents: Data([1])))
        #expect(FileManager.default.createFile(atPath: otherDay, contents: Data([1])))
        try day.writeFiles(
            dataFolder: folder + "/data", paymentsPath: folder + "/payments.csv", ledgerPath: folder + "/ledger.csv",
            expectedPath: folder + "/expected.csv")
        let rendered = try RenderedDay(day)
        let paths = [
            ("alipay/2021000000000000/20261123.details.csv", rendered.bill(0)),
            ("alipay/2021000000000000/20261123.summary.csv", rendered.bill(0, .alipaySummary)),
            ("wechatpay/1900000000/20261123.csv", rendered.bill(1)),
            ("unionpay/802310048993424/20261123.zm", rendered.bill(2)),
            ("bank/m-0042/20261123.csv", rendered.bill(3)),
        ]
        for (path, bytes) in paths {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/data/\(path)"))
            #expect(Array(data) == bytes, "\(path)")
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/payments.csv"))) == rendered.payments)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/ledger.csv"))) == rendered.ledger)
        let expected = try String(contentsOfFile: folder + "/expected.csv", encoding: .utf8)
        #expect(
            expected == ([ExpectedResult.csvHeader] + rendered.expected.map(\.csvLine)).joined(separator: "\n") + "\n")
        #expect(!FileManager.default.fileExists(atPath: stale) && FileManager.default.fileExists(atPath: otherDay))
        let partner = try String(contentsOfFile: "\(folder)/data/alipay/2021000000000000/partner_id", encoding: .utf8)
        #expect(partner == "2088000000000000\n")
    }

    /// The same results, whatever the order; the differences listed.
    static func compare(_ actual: [ExpectedResult], _ expected: [ExpectedResult], _ what: String = "") {
        #expect(actual.count == expected.count, "\(what): \(actual.count) results, \(expected.count) expected")
        let actualSet = Set(actual)
        let expectedSet = Set(expected)
        #expect(actualSet.count == actual.count && expectedSet.count == expected.count, "\(what): duplicates")
        let missing = expectedSet.subtracting(actualSet).map(\.csvLine).sorted()
        let extra = actualSet.subtracting(expectedSet).map(\.csvLine).sorted()
        #expect(missing.isEmpty && extra.isEmpty, "\(what): missing \(missing.prefix(4)), extra \(extra.prefix(4))")
    }
}

@Suite struct SyntheticRecordTests {
    @Test func rowsAreWrittenAsTheContractSays() throws {
        let time = SyntheticTime.instant(try testDay(), seconds: 9 * 3600 + 15 * 60 + 7)
        let leg = SyntheticLeg(
            orderID: "O1", legID: "L3", businessSystem: "mall", merchantID: "M1", kind: .channel, channel: "alipay",
            channelTransactionID: "T1", refundID: "RF1", direction: .refund, amountFen: -2000, feeFen: -12,
            status: .success, occurredAtMicroseconds: time)
        #expect(
            leg.csvLine == "O1,L3,mall,M1,channel,alipay,T1,RF1,refund,20.00,0.12,success,2026-11-23T09:15:07+08:00")
        var points = leg
        (points.kind, points.channel, points.channelTransactionID, points.refundID) = (.points, nil, nil, nil)
        (points.direction, points.amountFen, points.feeFen) = (.payment, 5, 0)
        #expect(points.csvLine == "O1,L3,mall,M1,points,,,,payment,0.05,0.00,success,2026-11-23T09:15:07+08:00")
        let entry = SyntheticLedgerEntry(
            entryID: "E1", accountID: "A1", asset: .preDeposit, legID: "L2", amountFen: -1005,
            occurredAtMicroseconds: time + 86_400_000_000 * 40)
        #expect(entry.csvLine == "E1,A1,pre_deposit,L2,-10.05,2027-01-02T09:15:07+08:00")
        #expect(SyntheticTime.iso(time) == "2026-11-23T09:15:07+08:00")
    }
}
