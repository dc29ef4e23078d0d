import Foundation
import ReconCore
import ReconFixtures
import ReconMatching
import ReconPostgres
import ReconTestSupport
import Testing

/// A whole business day through real processes (issue 12, §6): the four channels' bills of a
/// synthetic day served by `recon mock-channel`, the day's payments and ledger imported with
/// `recon import-payments` and `recon import-ledger`, a coordinator and two workers, and
/// `recon run-day`; then `recon report`, `recon summary` and the settlement file checked against
/// what the generator says of every item.
@Suite(.tags(.integration), .skippedWhenFast, .serialized) struct DayRunTests {
    static let day = LocalDay("2026-11-23") ?? LocalDay(dayNumber: 0)

    /// A mock, a job folder with the four synthetic channels pointing at it, and the days' files.
    struct Setup {
        let fixture: BillFixture
        let synthetic: SyntheticDay
        var settlements: String { fixture.folder + "/settlements" }
        var environment: [String: String] { fixture.harness.environment }

        func recon(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try runRecon(arguments, environment: environment)
        }
    }

    static func setUp(
        label: String, lines: Int, shards: Int = 2, maxAttempts: Int = 5, faults: [String] = [],
        databaseURL: String? = nil
    ) async throws -> Setup {
        let fixture = try await BillFixture(label: label, databaseURL: databaseURL)
        let synthetic = SyntheticDay(seed: 20_261_123, day: day, linesPerChannel: lines)
        var toml = ""
        try await fixture.startMock(lines: 10, faults: faults)
        for channel in synthetic.channels {
            let common = """
                name = "\(channel.name)"
                ready_after = "00:00"
                deadline = "23:59"
                poll_interval = "1s"
                shards = \(shards)
                retry = { max_attempts = \(maxAttempts), base = "200ms", cap = "1s" }
                """
            switch channel.adapter {
            case .alipay:
                let key = try fixture.makeKey(
                    name: "alipay", publicPath: "\(fixture.data)/alipay/\(channel.merchant)/app_public_key.pem")
                toml += """
                    [[channel]]
                    \(common)
                    adapter = "alipay"
                    base_url = "\(fixture.mockURL)/gateway.do"
                    merchant_id = "\(channel.partnerID ?? "")"
                    app_id = "\(channel.merchant)"
                    private_key = { file = "\(key)" }
                    alipay_public_key = { file = "\(fixture.data)/alipay/alipay_public_key.pem" }


                    """
            case .wechatpay:
                let key = try fixture.makeKey(
                    name: "wechat",
                    publicPath: "\(fixture.data)/wechatpay/\(channel.merchant)/merchant_public_key.pem")
                toml += """
                    [[channel]]
                    \(common)
                    adapter = "wechatpay"
                    base_url = "\(fixture.mockURL)"
                    merchant_id = "\(channel.merchant)"
                    certificate_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
                    private_key = { file = "\(key)" }
                    platform_public_key = { file = "\(fixture.data)/wechatpay/platform_public_key.pem" }


                    """
            case .unionpay:
                let key = try fixture.makeKey(
                    name: "unionpay",
                    publicPath: "\(fixture.data)/unionpay/\(channel.merchant)/merchant_public_key.pem")
                toml += """
                    [[channel]]
                    \(common)
                    adapter = "unionpay"
                    base_url = "\(fixture.mockURL)/"
                    merchant_id = "\(channel.merchant)"
                    cert_id = "69629715588"
                    private_key = { file = "\(key)" }
                    \(fixture.unionPayCertificates)


                    """
            case .bankCSV:
                toml += """
                    [[channel]]
                    \(common)
                    adapter = "bank_csv"
                    merchant_id = "\(channel.merchant)"
                    url_template = "\(fixture.mockURL)/bills/{merchant}/{date:%Y%m%d}.csv"
                    sha256_suffix = ".sha256"


                    """
            }
        }
        try fixture.writeJobFile(toml)
        return Setup(fixture: fixture, synthetic: synthetic)
    }

    /// Writes a day's bills where the mock serves them and imports its payments and ledger.
    static func giveDay(_ setup: Setup, _ synthetic: SyntheticDay) throws {
        let payments = "\(setup.fixture.folder)/payments-\(synthetic.day).csv"
        let ledger = "\(setup.fixture.folder)/ledger-\(synthetic.day).csv"
        try synthetic.writeFiles(dataFolder: setup.fixture.data, paymentsPath: payments, ledgerPath: ledger)
        let imported = try setup.recon(["import-payments", "--file", payments, "--jobs", setup.fixture.jobs])
        #expect(imported.status == 0, "\(imported.output)")
        let entries = try setup.recon(["import-ledger", "--file", ledger])
        #expect(entries.status == 0, "\(entries.output)")
    }

    static func startDaemons(_ setup: Setup, workers: Int = 2, environment: [String: String] = [:]) async throws {
        try await setup.fixture.harness.startCoordinator(leaseMilliseconds: 3_000)
        for index in 0..<workers {
            try await startWorker(setup, id: "day\(index)", environment: environment)
        }
    }

    /// One more worker with the day's folders and queues.
    @discardableResult
    static func startWorker(
        _ setup: Setup, id: String, environment: [String: String] = [:], downloads: String? = nil,
        queues: String = "default,bills", coordinators: [String]? = nil, launcher: [String] = []
    ) async throws -> DaemonProcess {
        let fixture = setup.fixture
        return try await fixture.harness.startWorker(
            slots: 3, id: id, coordinators: coordinators,
            extraArguments: [
                "--jobs", fixture.jobs, "--download-dir", downloads ?? fixture.downloads, "--archive-dir",
                fixture.archive, "--queues", queues, "--spool-dir", fixture.folder + "/spool", "--settlement-dir",
                setup.settlements,
            ], extraEnvironment: environment, launcher: launcher)
    }

    /// The report's CSV rows the generator expects for the day, in the report's column order.
    static func expectedReport(_ results: [ExpectedResult], virtual: Bool) -> [String] {
        func amount(_ fen: Int64?) -> String { fen.map { Money.yuanText(fen: $0) } ?? "" }
        return results.filter { $0.isVirtual == virtual }.map { result in
            virtual
                ? [
                    result.channel, "\(result.billDate)", result.legID ?? result.channelTxnID, result.entryID ?? "",
                    result.status.rawValue, amount(result.channelAmountFen), amount(result.internalAmountFen),
                ].joined(separator: ",")
                : [
                    CSVText.field(result.channel), "\(result.billDate)", CSVText.field(result.channelTxnID),
                    CSVText.field(result.legID ?? ""), result.status.rawValue, amount(result.channelAmountFen),
                    amount(result.internalAmountFen),
                ].joined(separator: ",")
        }.sorted()
    }

    /// The settlement computed here from the generator's expected results alone.
    static func expectedSettlement(_ results: [ExpectedResult]) -> String {
        var rows: [SettlementKey: SettlementTotals] = [:]
        for result in results where result.status == .matched && result.legStatus == .success {
            guard let system = result.businessSystem, let merchant = result.merchantID,
                let amount = result.internalAmountFen
            else { continue }
            if result.isVirtual {
                guard result.entryID != nil else { continue }
                rows[
                    SettlementKey(businessSystem: system, merchantID: merchant, channel: result.channel),
                    default: .init()
                ]
                .add(amountFen: amount, feeFen: 0)
            } else {
                guard result.channelAmountFen != nil else { continue }
                rows[
                    SettlementKey(businessSystem: system, merchantID: merchant, channel: result.channel),
                    default: .init()
                ]
                .add(amountFen: amount, feeFen: result.channelFeeFen ?? 0)
            }
        }
        return SettlementCSV.text(rows)
    }

    static func reportLines(_ setup: Setup, _ day: LocalDay, virtual: Bool) throws -> [String] {
        let report = try setup.recon(
            ["report", "--date", "\(day)", "--format", "csv"] + (virtual ? ["--virtual"] : []))
        #expect(report.status == 0, "\(report.output)")
        return report.output.split(separator: "\n").dropFirst().map(String.init)
    }

    /// The same rows, each once; on failure, only the rows that differ.
    func expectSameRows(_ rows: [String], _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let difference = Set(rows).symmetricDifference(expected)
        #expect(
            difference.isEmpty && rows.count == expected.count,
            "\(rows.count) rows, \(expected.count) expected; differing: \(difference.sorted().prefix(12))",
            sourceLocation: sourceLocation)
    }

    @Test func aFourChannelDayIsReconciledAndSettledAsTheGeneratorSaysAndARerunChangesNoByte() async throws {
        let setup = try await Self.setUp(label: "day-run", lines: 60)
        let previous = setup.synthetic.on(Self.day.previous)
        try Self.giveDay(setup, previous)
        try Self.giveDay(setup, setup.synthetic)
        try await Self.startDaemons(setup)

        for day in [Self.day.previous, Self.day] {
            let run = try setup.recon(["run-day", "--date", "\(day)", "--jobs", setup.fixture.jobs])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("\(day) settled"))
        }
        let expected = setup.synthetic.expectedResults(prior: .previousDayOnly)
        #expect(Set(expected.map(\.status)) == Set(MatchStatus.allCases), "every status is injected")
        let channelRows = try Self.reportLines(setup, Self.day, virtual: false)
        let expectedChannel = Self.expectedReport(expected, virtual: false)
        expectSameRows(channelRows, expectedChannel)
        let virtualRows = try Self.reportLines(setup, Self.day, virtual: true)
        let expectedVirtual = Self.expectedReport(expected, virtual: true)
        expectSameRows(virtualRows, expectedVirtual)
        // The day before, reconciled alone, as the generator says of it.
        let before = try Self.reportLines(setup, Self.day.previous, virtual: false)
        expectSameRows(before, Self.expectedReport(previous.expectedResults(prior: .none), virtual: false))

        let settlementPath = "\(setup.settlements)/settlement-\(Self.day).csv"
        let settlement = try Data(contentsOf: URL(fileURLWithPath: settlementPath))
        #expect(String(decoding: settlement, as: UTF8.self) == Self.expectedSettlement(expected))
        let shown = try setup.recon(["settlement", "--date", "\(Self.day)", "--format", "csv"])
        #expect(shown.output == String(decoding: settlement, as: UTF8.self))

        // Someone resolves a discrepancy; the JSON report says where carried items were resolved.
        let open = try setup.recon(["discrepancies", "--date", "\(Self.day)", "--open"])
        let channelOnly = try #require(
            open.output.split(separator: "\n").first { $0.contains("channel_only") && $0.hasPrefix("c") })
        let id = String(channelOnly.prefix { $0 != " " })
        let resolved = try setup.recon(
            ["discrepancies", "resolve", id, "--note", "customer refunded by hand", "--by", "li.wei"])
        #expect(resolved.status == 0, "\(resolved.output)")
        let json = try setup.recon(["report", "--date", "\(Self.day.previous)", "--format", "json"])
        let items = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]] ?? []
        let carried = items.filter { $0["status"] as? String == "carried_over" }
        #expect(!carried.isEmpty && carried.allSatisfy { $0["resolved_on"] as? String == "\(Self.day)" })

        // The same day again, from the fetch on: the same report, summary and settlement bytes.
        let summary = try setup.recon(["summary", "--date", "\(Self.day)", "--format", "csv"]).output
        let report = try setup.recon(["report", "--date", "\(Self.day)", "--format", "csv"]).output
        let rerun = try setup.recon(["run-day", "--date", "\(Self.day)", "--jobs", setup.fixture.jobs])
        #expect(rerun.status == 0, "\(rerun.output)")
        #expect(try setup.recon(["report", "--date", "\(Self.day)", "--format", "csv"]).output == report)
        #expect(try setup.recon(["summary", "--date", "\(Self.day)", "--format", "csv"]).output == summary)
        #expect(try Data(contentsOf: URL(fileURLWithPath: settlementPath)) == settlement)
        // The resolution outlived the rerun.
        let after = try setup.recon(["discrepancies", "--date", "\(Self.day)", "--open"]).output
        #expect(!after.contains("\(id) "))
        let all = try setup.recon(["discrepancies", "--date", "\(Self.day)"]).output
        #expect(
            all.split(separator: "\n").contains {
                $0.hasPrefix("\(id) ") && $0.contains("by li.wei: customer refunded by hand")
            })
        await setup.fixture.stop()
    }

    /// D's bill first, then D−1's (late): D−1's finalize finds that D read another carried-over
    /// state and runs D's shards, finalize and settle again; the end is the in-order one.
    @Test func theDayBeforeComingLateEndsAsIfInOrder() async throws {
        let setup = try await Self.setUp(label: "day-late", lines: 60)
        let previous = setup.synthetic.on(Self.day.previous)
        try Self.giveDay(setup, previous)
        try Self.giveDay(setup, setup.synthetic)
        try await Self.startDaemons(setup)
        for day in [Self.day, Self.day.previous] {
            let run = try setup.recon(["run-day", "--date", "\(day)", "--jobs", setup.fixture.jobs])
            #expect(run.status == 0, "\(run.output)")
        }
        let harness = setup.fixture.harness
        try await eventually("the reruns finished", timeout: .seconds(120)) {
            try await harness.count("SELECT count(*) FROM recon_jobs WHERE state <> 'completed'") == 0
        }
        #expect(
            try await harness.count(
                "SELECT count(*) FROM recon_jobs WHERE kind = 'reconcile' AND unique_key LIKE '%:after%'") > 0,
            "the late day re-ran the next")
        let expected = setup.synthetic.expectedResults(prior: .previousDayOnly)
        expectSameRows(
            try Self.reportLines(setup, Self.day, virtual: false), Self.expectedReport(expected, virtual: false))
        let settlement = try String(
            contentsOfFile: "\(setup.settlements)/settlement-\(Self.day).csv", encoding: .utf8)
        #expect(settlement == Self.expectedSettlement(expected))
        await setup.fixture.stop()
    }

    @Test func aWorkerKilledDuringAShardLeavesTheSameResultsAndNoDuplicates() async throws {
        let setup = try await Self.setUp(label: "day-kill", lines: 400, shards: 4)
        try Self.giveDay(setup, setup.synthetic)
        // Each shard waits 2 s between deciding and committing, so a kill lands inside one.
        try await Self.startDaemons(setup, environment: ["RECON_FAULT_SHARD_PAUSE_MS": "2000"])
        let harness = setup.fixture.harness
        let follower = try DaemonProcess(
            name: "run-day", arguments: ["run-day", "--date", "\(Self.day)", "--jobs", setup.fixture.jobs],
            environment: setup.environment)
        // Kill -9 the worker holding the first reconcile shard it can catch running: one whose
        // lease answer the worker acknowledged (it runs the shard then; a lease whose answer was
        // never acknowledged goes back without using an attempt, as if the answer were lost).
        var killed = false
        try await eventually("a reconcile shard running", timeout: .seconds(120)) {
            guard
                let owner = try await harness.pool.query(
                    """
                    SELECT j.lease_owner FROM recon_jobs j JOIN recon_lease_requests r ON r.request_id = j.lease_request
                    WHERE j.kind = 'reconcile' AND j.state = 'running' AND r.acknowledged_at IS NOT NULL LIMIT 1
                    """
                ).first?.decode(String?.self, at: 0),
                let worker = harness.workers.first(where: { $0.name == owner })
            else { return false }
            worker.signal(SIGKILL)
            killed = true
            return true
        }
        #expect(killed)
        #expect(try await follower.waitForExit(timeout: .seconds(180)) == 0, "\(follower.output)")
        let expected = setup.synthetic.expectedResults(prior: .none)
        let rows = try Self.reportLines(setup, Self.day, virtual: false)
        expectSameRows(rows, Self.expectedReport(expected, virtual: false))
        #expect(
            try await harness.count(
                "SELECT count(*) FROM recon_jobs WHERE kind = 'reconcile' AND attempt > 1 AND state = 'completed'")
                >= 1)
        await setup.fixture.stop()
    }
}
