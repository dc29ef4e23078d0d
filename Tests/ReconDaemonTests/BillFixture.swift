import Foundation
import ReconCore
import ReconHTTP
import ReconJobs
import ReconMockChannel
import ReconPostgres
import ReconTestSupport
import Testing
import _CryptoExtras

/// A mock channel server, a coordinator and workers with a job folder of channels pointing at the
/// mock, all real processes, in a temporary folder of their own.
final class BillFixture: @unchecked Sendable {
    // @unchecked: only the owning test touches it, one step at a time.
    let harness: DaemonHarness
    let folder: String
    var mock: DaemonProcess?
    var mockURL = ""

    var jobs: String { folder + "/jobs" }
    var data: String { folder + "/data" }
    var downloads: String { folder + "/downloads" }
    var archive: String { folder + "/archive" }

    init(label: String, databaseURL: String? = nil) async throws {
        harness = try await DaemonHarness(label: label, databaseURL: databaseURL)
        folder = NSTemporaryDirectory() + "recon-bills-\(UUID().uuidString)"
        for path in [jobs, data, downloads, archive] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// Starts `recon mock-channel` on a free port.
    func startMock(
        lines: Int = 200, faults: [String] = [], arguments: [String] = [], environment: [String: String] = [:]
    ) async throws {
        let process = try DaemonProcess(
            name: "mock-channel",
            arguments: ["mock-channel", "--listen", "127.0.0.1:0", "--data", data, "--lines", String(lines)]
                + faults.flatMap { ["--fault", $0] } + arguments, environment: environment)
        mock = process
        let line = try await process.waitForLine(containing: "mock channel listening on")
        guard let port = line.split(separator: ":").last else { throw DaemonError("no port in '\(line)'") }
        mockURL = "http://127.0.0.1:\(port)"
    }

    /// Ends every fault of the mock (`DELETE /admin/faults`): the channel behaves from now on.
    func clearFaults() async throws {
        let result = try await HTTPClient().send(
            HTTPRequest(method: HTTPMethod(rawValue: "DELETE"), url: mockURL + "/admin/faults"))
        guard result.status == 204 else { throw DaemonError("DELETE /admin/faults answered \(result.status)") }
    }

    /// An RSA key pair for a channel: the private half at `<folder>/<name>.pem` (where a secret
    /// reference points), the public half at `publicPath` (where the mock looks for it), if given.
    func makeKey(name: String, publicPath: String?) throws -> String {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let path = "\(folder)/\(name).pem"
        try key.pemRepresentation.write(toFile: path, atomically: true, encoding: .utf8)
        if let publicPath {
            try FileManager.default.createDirectory(
                atPath: (publicPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try key.publicKey.pemRepresentation.write(toFile: publicPath, atomically: true, encoding: .utf8)
        }
        return path
    }

    /// A UnionPay channel's `root_cert` and `middle_cert`: the chain the mock (once started) signs
    /// its answers with, so the channel verifies every answer.
    var unionPayCertificates: String {
        """
        root_cert = { file = "\(data)/unionpay-root.pem" }
        middle_cert = { file = "\(data)/unionpay-middle.pem" }
        """
    }

    /// Gives the mock merchant m001's bank file for `compactDate` (YYYYMMDD), served as is instead
    /// of a generated one: the header, `rows`, then `trailer`. Returns its path.
    @discardableResult
    func giveBankFile(_ compactDate: String, rows: [String], trailer: String) throws -> String {
        let folder = data + "/bank/m001"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let header = "txn_time,channel_txn_id,merchant_order_id,refund_id,kind,amount,fee,currency,status"
        let path = "\(folder)/\(compactDate).csv"
        try ([header] + rows + [trailer, ""]).joined(separator: "\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func writeJobFile(_ text: String, name: String = "channels.toml") throws {
        try text.write(toFile: jobs + "/" + name, atomically: true, encoding: .utf8)
    }

    /// A coordinator and `count` workers that fetch bills with this fixture's folders.
    func startDaemons(workers count: Int = 1, slots: Int = 4, environment: [String: String] = [:]) async throws {
        try await harness.startCoordinator(leaseMilliseconds: 5_000)
        for index in 0..<count {
            try await harness.startWorker(
                slots: slots, id: "bills\(index)",
                extraArguments: [
                    "--jobs", jobs, "--download-dir", downloads, "--archive-dir", archive, "--queues", "bills",
                ],
                extraEnvironment: environment)
        }
    }

    func enqueueFetch(channel: String, date: String, maxAttempts: Int = 5, retry: RetryPolicy? = nil) async throws
        -> Int64
    {
        let job = NewJob(
            kind: "fetch_bill", queue: "bills", args: "{\"channel\":\"\(channel)\",\"date\":\"\(date)\"}",
            retry: retry ?? RetryPolicy(maxAttempts: maxAttempts, baseMilliseconds: 200, capMilliseconds: 1000))
        guard let id = try await harness.enqueue([job]).first else { throw DaemonError("nothing enqueued") }
        return id
    }

    /// A successful payment leg of `channel` on `date` in our own records, so that the channel's
    /// ambiguous "no bill" means "not published yet" for that day (CHANNELS.md §5).
    func addLeg(channel: String, date: String) async throws {
        try await harness.pool.query(
            """
            INSERT INTO payment_legs (leg_id, order_id, business_system, merchant_id, leg_kind, channel, channel_txn_id,
                match_refund_key, key_hash, direction, amount_fen, fee_fen, status, occurred_at, business_date)
            VALUES ($1 || ':' || $2, 'O', 'mall', 'M', 'channel', $1, 'T-' || $2, '', 0, 'payment', 100, 0, 'success',
                ($2 || 'T12:00:00+08:00')::timestamptz, $2::date)
            """, [channel, date])
    }

    /// Waits until the job is finished and returns its state.
    func waitUntilFinished(_ id: Int64, timeout: Duration = .seconds(60)) async throws -> String {
        var state = ""
        try await eventually("job \(id) finished", timeout: timeout) {
            state = try await harness.jobState(id).state
            return ["completed", "dead", "cancelled"].contains(state)
        }
        return state
    }

    func jobErrors(_ id: Int64) async throws -> String {
        try await harness.pool.query("SELECT errors::text FROM recon_jobs WHERE id = $1", [id]).first?.decode(
            String.self, at: 0) ?? ""
    }

    /// A date's `download` requests in order: status, outcome, start (µs since 1970).
    func downloadAttempts(_ date: String) async throws -> [(status: Int?, outcome: String, startedMicros: Int64)] {
        try await harness.pool.query(
            """
            SELECT http_status, outcome, (extract(epoch FROM started_at) * 1000000)::int8 FROM bill_fetch_attempts
            WHERE bill_date = $1::date AND step = 'download' ORDER BY id
            """, [date]
        ).rows.map {
            (try $0.decode(Int?.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(Int64.self, at: 2))
        }
    }

    /// Expects a channel-day's staged rows to match the truth the mock wrote beside the bill it
    /// generated (count, Σ amount, Σ fee), and returns that truth for further checks.
    @discardableResult
    func expectStagedTruth(
        _ channel: String, date: String, mock: String, merchant: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> MockBillStore.Truth {
        let truth = try MockBillStore.truth(
            folder: data, channel: mock, merchant: merchant,
            day: try #require(LocalDay(date), sourceLocation: sourceLocation))
        let staged = try await self.staged(channel, date)
        #expect(
            staged.lines == truth.lines && staged.amount == truth.amountFen && staged.fee == truth.feeFen,
            "\(channel) \(date): staged \(staged), generated \(truth)", sourceLocation: sourceLocation)
        return truth
    }

    /// Staged rows of a channel-day: count, Σ amount, Σ fee.
    func staged(_ channel: String, _ date: String) async throws -> (lines: Int64, amount: Int64, fee: Int64) {
        guard
            let row = try await harness.pool.query(
                """
                SELECT count(*)::int8, coalesce(sum(amount_fen), 0)::int8, coalesce(sum(fee_fen), 0)::int8
                FROM staged_bill_lines WHERE channel = $1 AND bill_date = $2::date
                """, [channel, date]
            ).first
        else { return (0, 0, 0) }
        return (try row.decode(Int64.self, at: 0), try row.decode(Int64.self, at: 1), try row.decode(Int64.self, at: 2))
    }

    func stop() async {
        await harness.stopAll()
        if let mock, mock.process.isRunning {
            mock.signal(SIGTERM)
            _ = try? await mock.waitForExit(timeout: .seconds(10))
        }
    }
}
