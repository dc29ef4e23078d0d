import Foundation
import ReconBills
import ReconCore
import Testing

@testable import ReconConfig

/// `[[channel]]` tables: what they read into, and every refusal naming file, line and key.
@Suite struct ChannelDefinitionTests {
    static let file = """
        [[channel]]
        name = "wechat-main"
        adapter = "wechatpay"
        base_url = "https://api.mch.weixin.qq.com"
        merchant_id = "1900000000"
        certificate_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
        private_key = { file = "/etc/recon/wechat-main.pem" }
        ready_after = "10:00"
        deadline = "14:30"
        shards = 4
        retry = { max_attempts = 12, base = "30s", cap = "20m" }
        limits = { concurrent_requests = 3, requests_per_second = 7 }

        [[channel]]
        name = "bank-icbc"
        adapter = "bank_csv"
        merchant_id = "m-42"
        url_template = "https://bank.example/bills/{merchant}/{date:%Y%m%d}.csv"
        auth_header = { name = "X-Api-Key", secret = { env = "RECON_ICBC_KEY" } }
        sha256_suffix = ".sha256"
        """

    func refusal(_ text: String) -> TOMLError? {
        do {
            _ = try JobFile.parse(text, file: "jobs/channels.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test func channelsReadWithTheirAdapterLimitsAndSecretReferences() throws {
        let channels = try JobFile.parse(Self.file, file: "jobs/channels.toml").channels
        #expect(channels.map(\.name) == ["wechat-main", "bank-icbc"])
        let wechat = channels[0]
        #expect(wechat.line == 1)
        #expect(wechat.merchantID == "1900000000")
        #expect(wechat.limits == ChannelLimits(concurrentRequests: 3, requestsPerSecond: 7))
        #expect(wechat.retry == RetryPolicy(maxAttempts: 12, baseMilliseconds: 30_000, capMilliseconds: 1_200_000))
        #expect(wechat.shards == 4)
        #expect(wechat.carryOverWindowMilliseconds == 5 * 60_000)
        #expect(wechat.timeZone.identifier == "Asia/Shanghai")
        guard case .wechatpay(let options) = wechat.adapter else { Issue.record("not wechatpay"); return }
        #expect(options.privateKey == .file("/etc/recon/wechat-main.pem"))
        // The bill of the 23rd is ready at 10:00 on the 24th in Beijing (02:00 UTC), late at 14:30.
        let (ready, deadline) = wechat.readyAndDeadline(for: try #require(LocalDay("2026-11-23")))
        #expect(ready == 1_795_485_600 * 1_000_000)
        #expect(deadline - ready == 270 * 60 * 1_000_000)
        #expect(wechat.deadlineText == "14:30")

        guard case .bankCSV(let bank) = channels[1].adapter else { Issue.record("not bank_csv"); return }
        #expect(bank.authHeader?.name == "X-Api-Key")
        #expect(bank.authHeader?.secret == .environment("RECON_ICBC_KEY"))
        // Each secret with the line naming it, for the worker's check at start.
        #expect(
            wechat.secrets == [
                SecretUse(keyPath: "channel[0].private_key", reference: .file("/etc/recon/wechat-main.pem"), line: 7)
            ])
        #expect(
            channels[1].secrets == [
                SecretUse(keyPath: "channel[1].auth_header", reference: .environment("RECON_ICBC_KEY"), line: 19)
            ])
        #expect(
            bank.url(merchant: "m-42", day: try #require(LocalDay("2026-11-03")))
                == "https://bank.example/bills/m-42/20261103.csv")
    }

    @Test(arguments: [
        // (change, expected line, words the message must hold)
        ("adapter = \"wechatpay\"", "adapter = \"paypal\"", 3, "unknown adapter \"paypal\""),
        ("shards = 4", "shards = 4\nshard_count = 2", 11, "unknown key `channel[0].shard_count`"),
        ("merchant_id = \"1900000000\"\n", "", 1, "missing key `channel[0].merchant_id`"),
        (
            "base_url = \"https://api.mch.weixin.qq.com\"", "base_url = \"api.mch.weixin.qq.com\"", 4,
            "`channel[0].base_url` is not an http(s) URL"
        ),
        (
            "base_url = \"https://api.mch.weixin.qq.com\"", "base_url = \"https://bob:pw@api.mch.weixin.qq.com\"", 4,
            "must not carry a user or password"
        ),
        ("deadline = \"14:30\"", "deadline = \"2pm\"", 9, "`channel[0].deadline` must be a local time HH:MM"),
        ("name = \"wechat-main\"", "name = \"points\"", 2, "is a virtual asset's name"),
        ("shards = 4", "shards = 4\ncarry_over_window = \"7h\"", 11, "`channel[0].carry_over_window`"),
        (
            "limits = { concurrent_requests = 3,", "limits = { concurrent_requests = 0,", 12,
            "`channel[0].limits.concurrent_requests` must be between 1 and 1000"
        ),
        (
            "private_key = { file = \"/etc/recon/wechat-main.pem\" }", "private_key = { path = \"/x\" }", 7,
            "unknown key `channel[0].private_key.path`"
        ),
    ])
    func aWrongChannelIsRefusedWithItsLineAndKey(_ from: String, _ to: String, _ line: Int, _ words: String) throws {
        try expectRefusal(of: Self.file, changing: from, to: to, line: line, words: words)
    }

    /// `base` with `from` changed to `to` is refused in jobs/channels.toml at `line`, in `words`.
    func expectRefusal(
        of base: String, changing from: String, to: String, line: Int, words: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let text = base.replacingOccurrences(of: from, with: to)
        #expect(text != base, sourceLocation: sourceLocation)
        let error = try #require(refusal(text), sourceLocation: sourceLocation)
        #expect(error.file == "jobs/channels.toml", sourceLocation: sourceLocation)
        #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(words), "\(error)", sourceLocation: sourceLocation)
    }

    @Test func aSecretWrittenInlineIsRefusedWithoutRepeatingIt() throws {
        let secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
        for (from, to) in [
            ("private_key = { file = \"/etc/recon/wechat-main.pem\" }", "private_key = \"\(secret)\""),
            ("secret = { env = \"RECON_ICBC_KEY\" }", "secret = \"\(secret)\""),
            ("shards = 4", "shards = 4\nnote = \"-----BEGIN PRIVATE KEY-----\(secret)\""),
        ] {
            let error = try #require(refusal(Self.file.replacingOccurrences(of: from, with: to)))
            #expect(
                error.message.contains("secret inline") || error.message.contains("never the secret itself"), "\(error)"
            )
            #expect(!error.description.contains(secret))
        }
    }

    @Test func aRelativeSecretFileAndAnEmptyReferenceAreRefused() throws {
        let relative = try #require(
            refusal(Self.file.replacingOccurrences(of: "/etc/recon/wechat-main.pem", with: "wechat.pem")))
        #expect(relative.message.contains("must be an absolute path"))
        let empty = try #require(
            refusal(Self.file.replacingOccurrences(of: "{ file = \"/etc/recon/wechat-main.pem\" }", with: "{}")))
        #expect(empty.message.contains("exactly one of `file`, `env` or `credential`"))
    }

    @Test func aCredentialReferenceIsReadAndABadNameRefused() throws {
        let text = Self.file.replacingOccurrences(
            of: "{ file = \"/etc/recon/wechat-main.pem\" }", with: "{ credential = \"wechat-main-key\" }")
        let wechat = try #require(try JobFile.parse(text, file: "jobs/channels.toml").channels.first)
        #expect(
            wechat.secrets == [
                SecretUse(keyPath: "channel[0].private_key", reference: .credential("wechat-main-key"), line: 7)
            ])
        let slash = try #require(refusal(text.replacingOccurrences(of: "wechat-main-key", with: "../etc/shadow")))
        #expect(slash.message.contains("must be a credential's name"), "\(slash)")
        #expect(slash.line == 7)
        let two = try #require(
            refusal(text.replacingOccurrences(of: "{ credential", with: "{ env = \"RECON_X\", credential")))
        #expect(two.message.contains("exactly one of"))
    }

    static let unionpay = """
        [[channel]]
        name = "unionpay-main"
        adapter = "unionpay"
        base_url = "https://filedownload.95516.com/"
        merchant_id = "802310048993424"
        cert_id = "69629715588"
        private_key = { file = "/etc/recon/unionpay.pem" }
        root_cert = { file = "/etc/recon/unionpay-root.pem" }
        middle_cert = { env = "RECON_UNIONPAY_MIDDLE" }
        """

    @Test func unionpayTakesItsRootAndMiddleCertificatesAsReferences() throws {
        let channels = try JobFile.parse(Self.unionpay, file: "jobs/channels.toml").channels
        guard case .unionpay(let options) = try #require(channels.first).adapter else {
            Issue.record("not unionpay"); return
        }
        #expect(options.rootCertificate == .file("/etc/recon/unionpay-root.pem"))
        #expect(options.middleCertificate == .environment("RECON_UNIONPAY_MIDDLE"))

        // Without them answers are not verified: both absent reads, as before.
        let plain = Self.unionpay.replacingOccurrences(
            of: "root_cert = { file = \"/etc/recon/unionpay-root.pem\" }\n", with: ""
        )
        .replacingOccurrences(of: "middle_cert = { env = \"RECON_UNIONPAY_MIDDLE\" }", with: "")
        guard
            case .unionpay(let bare) = try #require(try JobFile.parse(plain, file: "jobs/channels.toml").channels.first)
                .adapter
        else { Issue.record("not unionpay"); return }
        #expect(bare.rootCertificate == nil && bare.middleCertificate == nil)
    }

    @Test(arguments: [
        // (change, expected line, words the message must hold)
        (
            "root_cert = { file = \"/etc/recon/unionpay-root.pem\" }\n", "", 8,
            "`channel[0].middle_cert` needs `root_cert`"
        ),
        (
            "root_cert = { file = \"/etc/recon/unionpay-root.pem\" }", "root_cert = \"/etc/recon/unionpay-root.pem\"",
            8,
            "`channel[0].root_cert` must be a reference"
        ),
        (
            "root_cert = { file = \"/etc/recon/unionpay-root.pem\" }", "root_cert = { path = \"/x.pem\" }", 8,
            "unknown key `channel[0].root_cert.path`"
        ),
        (
            "middle_cert = { env = \"RECON_UNIONPAY_MIDDLE\" }", "middle_cert = { file = \"middle.pem\" }", 9,
            "`channel[0].middle_cert.file` must be an absolute path"
        ),
    ])
    func aWrongUnionPayCertificateKeyIsRefusedWithItsLineAndKey(
        _ from: String, _ to: String, _ line: Int, _ words: String
    ) throws {
        try expectRefusal(of: Self.unionpay, changing: from, to: to, line: line, words: words)
    }

    @Test func twoChannelsWithOneNameAcrossFilesAreRefused() throws {
        let folder = NSTemporaryDirectory() + "recon-channels-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.file.write(toFile: folder + "/a.toml", atomically: true, encoding: .utf8)
        try Self.file.write(toFile: folder + "/b.toml", atomically: true, encoding: .utf8)
        #expect(throws: TOMLError.self) { try JobFile.load(directory: folder) }
        do {
            _ = try JobFile.load(directory: folder)
        } catch let error as TOMLError {
            #expect(error.file.hasSuffix("b.toml"))
            #expect(error.message.contains("channel name `wechat-main` is also used at"))
        }
    }
}

/// The example shipped in jobs/ stays valid as the reader changes.
@Suite struct ChannelExampleTests {
    @Test func theShippedChannelsExampleReads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("jobs/channels.toml.example").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let channels = try JobFile.parse(text, file: path).channels
        #expect(channels.map(\.adapter.name) == ["alipay", "wechatpay", "unionpay", "bank_csv"])
        guard case .unionpay(let unionpay) = channels[2].adapter else { Issue.record("not unionpay"); return }
        #expect(unionpay.rootCertificate != nil && unionpay.middleCertificate != nil)
        guard case .bankCSV(let bank) = channels[3].adapter else { Issue.record("not bank_csv"); return }
        #expect(bank.profile.encoding == .gbk)
        #expect(bank.profile.delimiter == 9)
        #expect(bank.profile.trailer == nil)
    }
}
