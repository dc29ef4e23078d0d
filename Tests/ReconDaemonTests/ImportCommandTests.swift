import Foundation
import ReconTestSupport
import Testing

/// `recon import-payments` and `recon import-ledger` as an operator runs them: a file or a pipe,
/// channel names from the job files, and exit codes that say whether anything was imported.
@Suite struct ImportCommandTests {
    static let jobs = """
        [[channel]]
        name = "alipay"
        adapter = "alipay"
        base_url = "http://127.0.0.1:9/gateway.do"
        merchant_id = "2088000000000000"
        app_id = "2021000000000000"
        private_key = { env = "RECON_TEST_UNUSED_KEY" }
        """

    @Test func aPipedFileImportsAndABadOneExitsNonZeroWithItsLines() async throws {
        let database = try await TestPostgres.migratedDatabase("cliimport")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recon-jobs-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(Self.jobs.utf8).write(to: URL(fileURLWithPath: folder + "/channels.toml"))
        let environment = ["RECON_DATABASE_URL": database, "RECON_JOBS_DIR": folder]
        let payments = """
            order_id,leg_id,business_system,merchant_id,leg_kind,channel,channel_txn_id,refund_id,direction,amount,fee,status,occurred_at
            O1,L1,mall,M1,channel,alipay,2026112322000001,,payment,50.00,0.30,success,2026-11-23 09:15:07+08
            O1,L2,mall,M1,points,,,,payment,10.00,,success,2026-11-23 09:15:07+08

            """
        let piped = try runRecon(
            ["import-payments", "--file", "-"], environment: environment, input: Data(payments.utf8))
        #expect(piped.status == 0, "\(piped.output)")
        #expect(piped.output.contains("imported <stdin>: 2 rows: 2 new, 0 changed, 0 unchanged"), "\(piped.output)")

        let bad = payments.replacingOccurrences(of: ",alipay,", with: ",paypal,")
        let refused = try runRecon(["import-payments", "--file", "-"], environment: environment, input: Data(bad.utf8))
        #expect(refused.status == 1)
        #expect(refused.output.contains("<stdin>: nothing imported"), "\(refused.output)")
        #expect(
            refused.output.contains("<stdin>: 2: channel: \"paypal\" is not a configured channel"), "\(refused.output)")

        let ledgerPath = folder + "/ledger.csv"
        try Data(
            "entry_id,account_id,asset,leg_id,amount,occurred_at\nE1,A1,points,L2,10.00,2026-11-23T09:15:07+08:00\n"
                .utf8
        )
        .write(to: URL(fileURLWithPath: ledgerPath))
        let ledger = try runRecon(["import-ledger", "--file", ledgerPath], environment: environment)
        #expect(ledger.status == 0, "\(ledger.output)")
        #expect(ledger.output.contains("imported \(ledgerPath): 1 rows: 1 new"), "\(ledger.output)")
        let missing = try runRecon(["import-ledger", "--file", folder + "/nope.csv"], environment: environment)
        #expect(missing.status == 1)
        #expect(missing.output.contains("nope.csv: cannot open it: No such file or directory"), "\(missing.output)")
    }
}
