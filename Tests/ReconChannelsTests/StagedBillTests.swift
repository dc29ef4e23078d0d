import Foundation
import ReconArchive
import ReconBillJobs
import ReconBills
import ReconCalendar
import ReconCore
import ReconFixtures
import ReconJobs
import ReconMatching
import ReconPostgres
import ReconTestSupport
import Testing

@testable import ReconChannels

/// Staging a channel-day against a real cluster.
@Suite(.tags(.integration), .skippedWhenFast) struct StagedBillTests {
    static let day = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 22))
    static let otherDay = LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: 23))

    /// A staging by job `job`: `lines` payments of `amountFen` each, ids `J<job>-<n>`.
    static func staging(job: Int64, lines: Int, amountFen: Int64, day: LocalDay = day) -> StagedBill {
        let bill = DownloadedBill(
            path: "/nonexistent/job-\(job).csv", sha256: String(repeating: "0", count: 64), bytes: 0,
            fileExtension: "csv"
        ) { _, emit in
            var summary = BillSummary()
            for number in 1...lines {
                let line = BillLine(
                    channel: "bank-a", billDate: day, channelTransactionID: "J\(job)-\(number)", merchantOrderID: nil,
                    refundID: nil, kind: .payment, amountFen: amountFen, feeFen: 0, channelStatus: "SUCCESS",
                    timeMicroseconds: (Int64(day.dayNumber) * 86_400 + Int64(number)) * 1_000_000,
                    lineNumber: number + 1)
                try emit(line)
                summary.count(line)
            }
            return summary
        }
        return StagedBill(
            channel: "bank-a", day: day, bill: bill, keyRule: .sharedTransactionID, jobID: job, leaseToken: job,
            worker: "test")
    }

    /// A bill of `lines` lines whose first `outside` lines lie outside the day (flagged as the
    /// parsers flag them).
    static func partlyOutside(lines: Int, outside: Int) -> StagedBill {
        let bill = DownloadedBill(
            path: "/nonexistent/outside.csv", sha256: String(repeating: "0", count: 64), bytes: 0, fileExtension: "csv"
        ) { _, emit in
            var summary = BillSummary()
            for number in 1...lines {
                let line = BillLine(
                    channel: "bank-a", billDate: day, channelTransactionID: "O-\(number)", merchantOrderID: nil,
                    refundID: nil, kind: .payment, amountFen: 100, feeFen: 0, channelStatus: "SUCCESS",
                    timeMicroseconds: (Int64(day.dayNumber) * 86_400 + Int64(number)) * 1_000_000,
                    lineNumber: number + 1,
                    flag: number <= outside ? "time 2026-11-21 10:00:0\(number % 10) is outside \(day)" : nil)
                try emit(line)
                summary.count(line)
            }
            return summary
        }
        return StagedBill(
            channel: "bank-a", day: day, bill: bill, keyRule: .sharedTransactionID, jobID: 5, leaseToken: 5,
            worker: "test")
    }

    /// Lines outside the day are staged with their flag, even all of a small bill's, or three in
    /// four of a large one; a bill of 20 lines or more with 90 % of them outside is another day's.
    @Test(
        .tags(.integration),
        arguments: [(10, 10, false), (40, 30, false), (40, 35, false), (40, 36, true), (200, 200, true)])
    func anotherDaysBillIsRefusedOnlyWhenNearlyAllOfManyLinesAreOutside(lines: Int, outside: Int, refused: Bool)
        async throws
    {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("outside"), maxConnections: 1)
        defer { pool.close() }
        let staging = Self.partlyOutside(lines: lines, outside: outside)
        do {
            try await pool.transaction { try staging.write(on: $0) }
            #expect(!refused, "\(outside) of \(lines) outside was staged")
        } catch ChannelError.transient(let message, _) {
            #expect(refused, "\(message)")
            #expect(message.contains("\(outside) of its \(lines) lines are outside the day, the first at line 2"))
        }
        let staged = try await pool.query("SELECT count(*) FROM staged_bill_lines").first?.decode(Int64.self, at: 0)
        #expect(staged == (refused ? 0 : Int64(lines)))
    }

    /// Rows of a channel-day: count, Σ amount, and how many carry job `job`'s ids.
    static func staged(_ pool: PGPool, _ day: LocalDay, job: Int64) async throws -> (
        lines: Int64, amount: Int64, ofJob: Int64
    ) {
        let row = try #require(
            try await pool.query(
                """
                SELECT count(*)::int8, coalesce(sum(amount_fen), 0)::int8,
                       count(*) FILTER (WHERE channel_txn_id LIKE 'J' || $2::text || '-%')::int8
                FROM staged_bill_lines WHERE channel = 'bank-a' AND bill_date = $1
                """, [day.pgDate, job]
            ).first)
        return (try row.decode(Int64.self, at: 0), try row.decode(Int64.self, at: 1), try row.decode(Int64.self, at: 2))
    }

    /// Two fetches of one channel-day committing at once take turns on the advisory lock: the
    /// second waits for the first and then replaces its rows whole, so the day ends with the
    /// second's 30 rows, not 80 and not a blend. A staging of another day is not held up meanwhile.
    @Test func twoStagingsOfOneChannelDayTakeTurns() async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("staging"), maxConnections: 5)
        defer { pool.close() }
        // An earlier fetch's rows, which both replace.
        let earlier = Self.staging(job: 1, lines: 10, amountFen: 500)
        try await pool.transaction { try earlier.write(on: $0) }

        let first = Self.staging(job: 2, lines: 50, amountFen: 100)
        let second = Self.staging(job: 3, lines: 30, amountFen: 7)
        let otherDay = Self.staging(job: 4, lines: 5, amountFen: 1, day: Self.otherDay)

        // The first stages everything, then keeps its transaction open until the gate opens.
        let gate = DispatchSemaphore(value: 0)
        let (staged, stagedSink) = AsyncStream.makeStream(of: Void.self)
        let holding = Task {
            try await pool.transaction { connection in
                defer { stagedSink.finish() }
                try first.write(on: connection)
                stagedSink.yield()
                gate.wait()
            }
        }
        var stagedEvents = staged.makeAsyncIterator()
        guard await stagedEvents.next() != nil else {
            try await holding.value
            return
        }

        let (backends, backendSink) = AsyncStream.makeStream(of: Int64.self)
        let competing = Task {
            try await pool.transaction { connection in
                defer { backendSink.finish() }
                backendSink.yield(
                    try connection.query("SELECT pg_backend_pid()::int8").first?.decode(Int64.self, at: 0) ?? 0)
                try second.write(on: connection)
            }
        }
        var backendEvents = backends.makeAsyncIterator()
        let backend = await backendEvents.next() ?? 0
        let secondWaited =
            (try? await eventually("the second staging waits for a lock", timeout: .seconds(20)) {
                try await pool.query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [backend])
                    .first?.decode(String?.self, at: 0) == "Lock"
            }) != nil
        #expect(secondWaited, "the second staging ran while the first held the channel-day")

        let otherStaging = Task { try await pool.transaction { try otherDay.write(on: $0) } }
        let otherDayCommitted =
            (try? await eventually("another day's staging commits", timeout: .seconds(20)) {
                try await Self.staged(pool, Self.otherDay, job: 4).lines == 5
            }) != nil
        #expect(otherDayCommitted, "a staging of another day waited for this one's lock")

        gate.signal()
        try await holding.value
        try await competing.value
        try await otherStaging.value

        let result = try await Self.staged(pool, Self.day, job: 3)
        #expect(result.lines == 30 && result.amount == 30 * 7 && result.ofJob == 30, "\(result)")
        let fetch = try #require(
            try await pool.query(
                "SELECT job_id, lines FROM bill_fetches WHERE channel = 'bank-a' AND bill_date = $1", [Self.day.pgDate]
            ).first)
        #expect(try fetch.decode(Int64.self, at: 0) == 3)
        #expect(try fetch.decode(Int64.self, at: 1) == 30)
    }

    /// Each line is staged with what it meets its leg on: the key's refund part under the
    /// channel's rule (a UnionPay refund by its own queryId alone), the shard hash, and the payment
    /// it refunds.
    @Test(arguments: [(KeyRule.sharedTransactionID, "RF1"), (KeyRule.ownTransactionID, "")])
    func linesCarryTheirMatchKey(rule: KeyRule, refundKey: String) async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("stagekey"), maxConnections: 1)
        defer { pool.close() }
        let bill = DownloadedBill(
            path: "/nonexistent/keys.csv", sha256: String(repeating: "0", count: 64), bytes: 0, fileExtension: "csv"
        ) { _, emit in
            var summary = BillSummary()
            let refund = BillLine(
                channel: "bank-a", billDate: Self.day, channelTransactionID: "REFUND-OWN",
                originalTransactionID: "PAY-1",
                merchantOrderID: nil, refundID: "RF1", kind: .refund, amountFen: -100, feeFen: -1,
                channelStatus: nil, timeMicroseconds: Int64(Self.day.dayNumber) * 86_400_000_000, lineNumber: 2)
            try emit(refund)
            summary.count(refund)
            return summary
        }
        let staging = StagedBill(
            channel: "bank-a", day: Self.day, bill: bill, keyRule: rule, jobID: 1, leaseToken: 1, worker: "test")
        try await pool.transaction { try staging.write(on: $0) }
        let row = try #require(
            try await pool.query("SELECT match_refund_key, key_hash, original_txn_id FROM staged_bill_lines").first)
        #expect(try row.decode(String.self, at: 0) == refundKey)
        #expect(try row.decode(Int64.self, at: 1) == MatchKey.keyHash("REFUND-OWN"))
        #expect(try row.decode(String.self, at: 2) == "PAY-1")
    }

    /// A bill that contradicts its own totals is refused for good (`ChannelError.permanent`: the
    /// job is dead at once); any other refusal, which a damaged download could cause, retryably.
    /// Either way nothing of it is staged and the earlier rows stay.
    @Test(arguments: [true, false])
    func aRefusedBillStagesNothingAndSaysWhetherAnotherDownloadCanHelp(contradictsItsTotals: Bool) async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("refused"), maxConnections: 2)
        defer { pool.close() }
        let earlier = Self.staging(job: 1, lines: 10, amountFen: 500)
        try await pool.transaction { try earlier.write(on: $0) }
        let refusal = BillError(
            file: "bank/20261122.csv", line: 42, column: "sum", check: "trailer", reason: "the lines add up to 30.00",
            contradictsItsTotals: contradictsItsTotals)
        let bill = DownloadedBill(
            path: "/nonexistent/refused.csv", sha256: String(repeating: "0", count: 64), bytes: 0, fileExtension: "csv"
        ) { _, emit in
            for number in 1...40 {
                try emit(
                    BillLine(
                        channel: "bank-a", billDate: Self.day, channelTransactionID: "R\(number)", merchantOrderID: nil,
                        refundID: nil, kind: .payment, amountFen: 1, feeFen: 0, channelStatus: "SUCCESS",
                        timeMicroseconds: Int64(Self.day.dayNumber) * 86_400_000_000, lineNumber: number + 1))
            }
            throw refusal
        }
        let staging = StagedBill(
            channel: "bank-a", day: Self.day, bill: bill, keyRule: .sharedTransactionID, jobID: 2, leaseToken: 2,
            worker: "test")
        let error = await #expect(throws: ChannelError.self) {
            try await pool.transaction { try staging.write(on: $0) }
        }
        switch error {
        case .permanent(let message)?:
            #expect(contradictsItsTotals, "\(message)")
            #expect(message.contains("nothing staged") && message.contains("bank/20261122.csv:42"))
        case .transient(let message, _)?:
            #expect(!contradictsItsTotals, "\(message)")
            #expect(message.contains("nothing staged"))
        case nil:
            Issue.record("the staging did not fail")
        }
        let kept = try await Self.staged(pool, Self.day, job: 1)
        #expect(kept.lines == 10 && kept.ofJob == 10)
    }
}

/// Issue 14's bad bills, one channel's real parser each, against a real cluster: a bill whose
/// last line is bad (every line before it already streaming into the COPY), and for the zipped
/// channels an archive whose entry escapes its folder or unpacks past the cap. The refusal names
/// the file, the line and the column; the channel-day keeps the earlier fetch's rows, and
/// `bill_fetches` still describes that fetch.
@Suite(.tags(.integration), .skippedWhenFast) struct BadBillStagingTests {
    static let day = StagedBillTests.day
    static let lines = 200
    static let bill = SyntheticBill.generate(day: day, count: lines, seed: 14)

    /// A written bill, broken by `edit`, and the parse the adapter would run over it.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// The file's name in the work folder, and its bytes.
        var file: String
        var bytes: [UInt8]
        var parse: @Sendable (String, (BillLine) throws -> Void) throws -> BillSummary
        /// What the refusal must say (the file's label, `:line`, `column X`).
        var words: [String]
        /// Lines the parser emits before it refuses: a bad last line comes after all the others.
        var emittedFirst = 0
        var testDescription: String { name }
    }

    static func written(_ write: (@escaping ([UInt8]) throws -> Void) throws -> Void) -> [UInt8] {
        final class Bytes: @unchecked Sendable { var all: [UInt8] = [] }
        let bytes = Bytes()
        do { try write { bytes.all += $0 } } catch { Issue.record("writing the bill: \(error)") }
        return bytes.all
    }

    /// `text` with its last `find` replaced by `replace`.
    static func replacingLast(_ find: String, with replace: String, in text: String) -> String {
        guard let range = text.range(of: find, options: .backwards) else {
            Issue.record("no \(find) in the bill")
            return text
        }
        return text.replacingCharacters(in: range, with: replace)
    }

    static func zip(_ entries: [(String, [UInt8])]) -> [UInt8] {
        let path = NSTemporaryDirectory() + "recon-zip-\(UUID().uuidString).zip"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let named = try entries.map { (nameBytes: try GBK.encode($0.0), data: $0.1) }
            try ZipWriter.write(path: path, entries: named)
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            Issue.record("writing the zip: \(error)")
            return []
        }
    }

    static let alipayAccount = "20880000000000000156"
    static let alipayLabel = "alipay-main Alipay bill \(day)"
    static let alipayDetails = "\(alipayAccount)_20261122_业务明细.csv"
    static let alipaySummary = "\(alipayAccount)_20261122_业务明细(汇总).csv"

    static func alipayFiles() -> (details: String, summary: [UInt8]) {
        let summary = written { sink in
            var writer = try AlipaySummaryWriter(accountID: alipayAccount, day: day, sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        }
        let details = written { sink in
            var writer = try AlipayDetailsWriter(accountID: alipayAccount, day: day, sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        }
        return ((try? GBK.decode(details)) ?? "", summary)
    }

    static func alipay(
        _ name: String, maxBytes: Int64 = 1 << 30, entries: [(String, [UInt8])], words: [String], emittedFirst: Int = 0
    ) -> Case {
        Case(
            name: name, file: "bill.csv.zip", bytes: zip(entries),
            parse: { path, emit in
                try AlipayAdapter.parse(
                    path, label: alipayLabel, channel: "bank-a", day: day, accountID: alipayAccount, maxBytes: maxBytes,
                    emit: emit)
            }, words: words, emittedFirst: emittedFirst)
    }

    static let unionPayMerchant = "777290058110048"
    static let unionPayLabel = "unionpay-main UnionPay bill \(day)"
    static let unionPayEntry = "INN26112301ZM_\(unionPayMerchant)"

    static func unionPay(
        _ name: String, maxBytes: Int64 = 1 << 30, entries: [(String, [UInt8])], words: [String], emittedFirst: Int = 0
    ) -> Case {
        Case(
            name: name, file: "bill.zip", bytes: zip(entries),
            parse: { path, emit in
                try UnionPayAdapter.parse(
                    path, label: unionPayLabel, channel: "bank-a", day: day, merchantID: unionPayMerchant,
                    maxBytes: maxBytes, emit: emit)
            }, words: words, emittedFirst: emittedFirst)
    }

    static var cases: [Case] {
        let last = lines
        // Alipay: the last row's 业务类型 is neither 交易 nor 退款 (rows start at line 6).
        let (details, summary) = alipayFiles()
        let kinds = [
            details.range(of: "\t,交易\t,", options: .backwards), details.range(of: "\t,退款\t,", options: .backwards),
        ]
        let lastKind = kinds.compactMap { $0 }.max { $0.lowerBound < $1.lowerBound }
        var badDetails = details
        if let lastKind { badDetails.replaceSubrange(lastKind, with: "\t,转账\t,") }
        let badDetailsBytes = (try? GBK.encode(badDetails)) ?? []
        let goodDetailsBytes = (try? GBK.encode(details)) ?? []

        // WeChat Pay: the last row's currency (rows start at line 2), gzipped as the API sends it.
        let weChat = String(
            decoding: written { sink in
                var writer = WeChatBillWriter(merchantID: "1900000000", sink: sink)
                for transaction in bill { try writer.append(transaction) }
                try writer.finish()
            }, as: UTF8.self)
        let weChatGzip =
            (try? Deflater.deflate(Array(replacingLast("`CNY,", with: "`USD,", in: weChat).utf8), format: .gzip)) ?? []

        // UnionPay: the last record's 交易金额 (field 7, at byte 66) with a letter in it.
        var records = written { sink in
            var writer = try UnionPayZMWriter(merchantID: unionPayMerchant, sink: sink)
            for transaction in bill { try writer.append(transaction) }
            try writer.finish()
        }
        let goodRecords = records
        if records.count >= 609 { records[records.count - 609 + 66] = UInt8(ascii: "X") }

        // Bank CSV: the last line's amount is not a number (lines start at line 2).
        let bank = String(
            decoding: written { sink in
                var writer = BankCSVWriter(sink: sink)
                for transaction in bill { try writer.append(transaction) }
                try writer.finish()
            }, as: UTF8.self)
        let bankLines = bank.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        var badBank = bankLines
        let lastData = lines  // index of the last data line (0 is the header)
        if badBank.indices.contains(lastData) {
            var fields = badBank[lastData].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.count > 5 { fields[5] = "12.5x" }
            badBank[lastData] = fields.joined(separator: ",")
        }
        let bankLabel = "bank-a bank file \(day)"
        // Another day's bill, sent for this one: every line's time is the day before.
        let yesterday = SyntheticBill.generate(day: day.previous, count: lines, seed: 14)
        let weChatOfYesterday =
            (try? Deflater.deflate(
                written { sink in
                    var writer = WeChatBillWriter(merchantID: "1900000000", sink: sink)
                    for transaction in yesterday { try writer.append(transaction) }
                    try writer.finish()
                }, format: .gzip)) ?? []
        let bankOfYesterday = written { sink in
            var writer = BankCSVWriter(sink: sink)
            for transaction in yesterday { try writer.append(transaction) }
            try writer.finish()
        }

        return [
            alipay(
                "Alipay: the last row's kind", entries: [(alipayDetails, badDetailsBytes), (alipaySummary, summary)],
                words: [alipayLabel, "\(alipayDetails):\(last + 5) column 业务类型", "kind"], emittedFirst: last - 1),
            alipay(
                "Alipay: an entry named ../",
                entries: [("../" + alipayDetails, goodDetailsBytes), (alipaySummary, summary)],
                words: ["entry name", "'..' path component"]),
            alipay(
                "Alipay: an entry past the cap (a bomb)", maxBytes: 64 << 10,
                entries: [
                    (alipayDetails, goodDetailsBytes + [UInt8](repeating: 48, count: 4 << 20)),
                    (alipaySummary, summary),
                ],
                words: ["size cap"]),
            Case(
                name: "WeChat Pay: the last row's currency", file: "bill.csv.gz", bytes: weChatGzip,
                parse: { path, emit in
                    try WeChatPayAdapter.parse(
                        path, label: "wechat-main WeChat Pay bill \(day)", channel: "bank-a", day: day,
                        merchantID: "1900000000", maxBytes: 1 << 30, expectedSHA1: nil, emit: emit)
                }, words: ["wechat-main WeChat Pay bill \(day):\(last + 1) column 货币种类", "USD is not CNY"],
                emittedFirst: last - 1),
            unionPay(
                "UnionPay: the last record's amount", entries: [(unionPayEntry, records)],
                words: ["\(unionPayLabel) \(unionPayEntry):\(last) column 交易金额", "digits"], emittedFirst: last - 1),
            unionPay(
                "UnionPay: an entry named ../", entries: [("../" + unionPayEntry, goodRecords)],
                words: ["entry name", "'..' path component"]),
            unionPay(
                "UnionPay: an entry past the cap (a bomb)", maxBytes: 64 << 10,
                entries: [(unionPayEntry, goodRecords + [UInt8](repeating: 32, count: 4 << 20))],
                words: ["size cap"]),
            Case(
                name: "bank CSV: the last line's amount", file: "bill.csv",
                bytes: Array(badBank.joined(separator: "\r\n").utf8),
                parse: { path, emit in
                    try BankCSVAdapter.parse(
                        path, label: bankLabel, channel: "bank-a", day: day, profile: .reconBankV1, packing: .none,
                        maxBytes: 1 << 30, emit: emit)
                }, words: ["\(bankLabel):\(last + 1) column amount", "amount"], emittedFirst: last - 1),
            Case(
                name: "WeChat Pay: another day's bill", file: "bill.csv.gz", bytes: weChatOfYesterday,
                parse: { path, emit in
                    try WeChatPayAdapter.parse(
                        path, label: "wechat-main WeChat Pay bill \(day)", channel: "bank-a", day: day,
                        merchantID: "1900000000", maxBytes: 1 << 30, expectedSHA1: nil, emit: emit)
                },
                words: [
                    "bill.csv.gz: \(last) of its \(last) lines are outside the day", "line 2: 交易时间", "another day",
                ],
                emittedFirst: last),
            Case(
                name: "bank CSV: another day's bill", file: "bill.csv", bytes: bankOfYesterday,
                parse: { path, emit in
                    try BankCSVAdapter.parse(
                        path, label: bankLabel, channel: "bank-a", day: day, profile: .reconBankV1, packing: .none,
                        maxBytes: 1 << 30, emit: emit)
                },
                words: ["bill.csv: ", " of its \(last) lines are outside the day, the first at line ", "another day"],
                emittedFirst: last),
        ]
    }

    @Test(arguments: cases)
    func aBadBillOfEachChannelStagesNothingAndNamesItsPlace(_ bad: Case) async throws {
        let pool = PGPool(connectionString: try await TestPostgres.migratedDatabase("badbill"), maxConnections: 2)
        defer { pool.close() }
        let earlier = StagedBillTests.staging(job: 1, lines: 10, amountFen: 500)
        try await pool.transaction { try earlier.write(on: $0) }
        let folder = NSTemporaryDirectory() + "recon-badbill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/" + bad.file
        try Data(bad.bytes).write(to: URL(fileURLWithPath: path))

        // The parser does emit the good lines before refusing: they were streaming into the COPY.
        let emitted = Emitted()
        _ = try? bad.parse(path) { _ in emitted.count += 1 }
        #expect(emitted.count == bad.emittedFirst)

        let staging = StagedBill(
            channel: "bank-a", day: Self.day,
            bill: DownloadedBill(
                path: path, sha256: String(repeating: "0", count: 64), bytes: Int64(bad.bytes.count),
                fileExtension: "csv", parse: bad.parse),
            keyRule: .sharedTransactionID, jobID: 2, leaseToken: 2, worker: "test")
        let error = await #expect(throws: ChannelError.self) {
            try await pool.transaction { try staging.write(on: $0) }
        }
        let message: String
        switch error {
        case .permanent(let text)?: message = text
        case .transient(let text, _)?: message = text
        case nil: message = ""
        }
        #expect(message.contains("nothing staged"), "\(message)")
        for words in bad.words { #expect(message.contains(words), "\(message)") }
        let kept = try await StagedBillTests.staged(pool, Self.day, job: 1)
        #expect(kept.lines == 10 && kept.ofJob == 10 && kept.amount == 5000, "\(kept) (\(emitted.count) emitted)")
        let fetch = try await pool.query(
            "SELECT job_id, lines FROM bill_fetches WHERE channel = 'bank-a' AND bill_date = $1", [Self.day.pgDate]
        ).first
        #expect(try fetch?.decode(Int64.self, at: 0) == 1 && fetch?.decode(Int64.self, at: 1) == 10)
    }

    final class Emitted: @unchecked Sendable { var count = 0 }
}
