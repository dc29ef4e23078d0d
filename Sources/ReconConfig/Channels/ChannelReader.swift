import Foundation
import ReconBills
import ReconCore

/// Turns one `[[channel]]` table into a `ChannelDefinition`. Every refusal names the file, the
/// line and the key; a secret written inline is refused without repeating it.
enum ChannelReader {
    static func read(_ reader: TOMLTableReader) throws(TOMLError) -> ChannelDefinition {
        try refuseInlineSecrets(reader.table, reader: reader, path: reader.path)
        let name = try reader.string("name")
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw reader.error(at: "name", "`\(reader.keyPath("name"))` must be ASCII letters, digits, '-', '_' or '.'")
        }
        // Summaries and settlements put a virtual asset in the channel column: the names must differ.
        guard !["pre_deposit", "points", "data_traffic"].contains(name) else {
            throw reader.error(
                at: "name", "`\(reader.keyPath("name"))` = \"\(name)\" is a virtual asset's name; pick another")
        }
        let adapterName = try reader.string("adapter")
        guard ChannelAdapterOptions.names.contains(adapterName) else {
            throw reader.error(
                at: "adapter",
                "`\(reader.keyPath("adapter"))`: unknown adapter \"\(adapterName)\" (known: "
                    + ChannelAdapterOptions.names.joined(separator: ", ") + ")")
        }
        let merchantID =
            try adapterName == "bank_csv" ? reader.optionalString("merchant_id") ?? "" : reader.string("merchant_id")
        let adapter: ChannelAdapterOptions
        let baseURL: String
        switch adapterName {
        case "alipay":
            baseURL = try url(reader, "base_url")
            adapter = .alipay(
                AlipayOptions(
                    appID: try reader.string("app_id"), privateKey: try secret(reader, "private_key"),
                    alipayPublicKey: try SecretReference.read(reader, "alipay_public_key"),
                    appAuthToken: try SecretReference.read(reader, "app_auth_token")))
        case "wechatpay":
            baseURL = try url(reader, "base_url")
            adapter = .wechatpay(
                WeChatPayOptions(
                    certificateSerial: try reader.string("certificate_serial"),
                    privateKey: try secret(reader, "private_key"),
                    platformPublicKey: try SecretReference.read(reader, "platform_public_key")))
        case "unionpay":
            baseURL = try url(reader, "base_url")
            guard merchantID.count == 15, merchantID.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw reader.error(
                    at: "merchant_id", "`\(reader.keyPath("merchant_id"))`: a UnionPay merId is 15 digits")
            }
            let root = try SecretReference.read(reader, "root_cert")
            let middle = try SecretReference.read(reader, "middle_cert")
            // A middle certificate alone would read as "verified" while nothing is checked.
            if middle != nil, root == nil {
                throw reader.error(
                    at: "middle_cert",
                    "`\(reader.keyPath("middle_cert"))` needs `root_cert`: answers are verified against the root")
            }
            adapter = .unionpay(
                UnionPayOptions(
                    certificateID: try reader.string("cert_id"), privateKey: try secret(reader, "private_key"),
                    rootCertificate: root, middleCertificate: middle))
        default:
            let options = try bankCSV(reader)
            // Checked with its placeholders filled; kept as the template.
            _ = try url(reader, "url_template", text: options.url(merchant: merchantID, day: LocalDay(dayNumber: 0)))
            baseURL = options.urlTemplate
            adapter = .bankCSV(options)
        }
        let timeZone = try reader.optionalString("time_zone") ?? "Asia/Shanghai"
        guard let zone = TimeZone(identifier: timeZone) else {
            throw reader.error(at: "time_zone", "`\(reader.keyPath("time_zone"))`: unknown time zone \(timeZone)")
        }
        let readyAfter = try clock(reader, "ready_after") ?? 9 * 60
        let deadline = try clock(reader, "deadline", nextDayToo: true) ?? 14 * 60
        guard deadline > readyAfter else {
            throw reader.error(at: "deadline", "`\(reader.keyPath("deadline"))` must be later than ready_after")
        }
        var retry = RetryPolicy(maxAttempts: 10, baseMilliseconds: 30_000, capMilliseconds: 30 * 60_000)
        if let table = try reader.optionalTable("retry") {
            retry.maxAttempts = try table.optionalInt("max_attempts", in: 1...1000) ?? retry.maxAttempts
            retry.baseMilliseconds =
                try JobFile.duration(table, "base", in: 0...30 * JobFile.dayMilliseconds) ?? retry.baseMilliseconds
            retry.capMilliseconds =
                try JobFile.duration(table, "cap", in: 0...30 * JobFile.dayMilliseconds) ?? retry.capMilliseconds
            try table.finish()
        }
        var limits = ChannelLimits()
        if let table = try reader.optionalTable("limits") {
            limits.concurrentRequests =
                try table.optionalInt("concurrent_requests", in: 1...1000) ?? limits.concurrentRequests
            limits.requestsPerSecond =
                try table.optionalInt("requests_per_second", in: 1...1000) ?? limits.requestsPerSecond
            try table.finish()
        }
        let connectTimeout = try JobFile.duration(reader, "connect_timeout", in: 100...3_600_000) ?? 10_000
        let totalTimeout =
            try JobFile.duration(reader, "total_timeout", in: 1000...JobFile.dayMilliseconds) ?? 10 * 60_000
        guard connectTimeout > 0, totalTimeout >= connectTimeout else {
            throw reader.error(
                at: "total_timeout", "`\(reader.keyPath("total_timeout"))` must be at least connect_timeout")
        }
        var definition = ChannelDefinition(
            name: name, adapter: adapter, baseURL: baseURL, merchantID: merchantID,
            connectTimeoutMilliseconds: connectTimeout, totalTimeoutMilliseconds: totalTimeout, retry: retry,
            readyAfterMinutes: readyAfter, deadlineMinutes: deadline,
            pollIntervalMilliseconds: try JobFile.duration(reader, "poll_interval", in: 1000...JobFile.dayMilliseconds)
                ?? 10 * 60_000,
            latePolls: try reader.optionalInt("late_polls", in: 0...100) ?? 3,
            timeZone: zone,
            shards: try reader.optionalInt("shards", in: 1...4096) ?? 1,
            carryOverWindowMilliseconds: try JobFile.duration(reader, "carry_over_window", in: 0...6 * 3_600_000)
                ?? 5 * 60_000,
            maxBillBytes: try maxBillBytes(reader),
            limits: limits, queue: try reader.optionalString("queue") ?? "bills", file: reader.file, line: reader.line)
        definition.secrets = secretUses(adapter, reader)
        return definition
    }

    /// The adapter's secret references, each with the line of its key.
    private static func secretUses(_ adapter: ChannelAdapterOptions, _ reader: TOMLTableReader) -> [SecretUse] {
        let named: [(String, SecretReference?)]
        switch adapter {
        case .alipay(let options):
            named = [
                ("private_key", options.privateKey), ("alipay_public_key", options.alipayPublicKey),
                ("app_auth_token", options.appAuthToken),
            ]
        case .wechatpay(let options):
            named = [("private_key", options.privateKey), ("platform_public_key", options.platformPublicKey)]
        case .unionpay(let options):
            named = [
                ("private_key", options.privateKey), ("root_cert", options.rootCertificate),
                ("middle_cert", options.middleCertificate),
            ]
        case .bankCSV(let options):
            named = [("auth_header", options.authHeader?.secret)]
        }
        return named.compactMap { key, reference in
            reference.map {
                SecretUse(
                    keyPath: reader.keyPath(key), reference: $0, line: reader.node(key)?.line ?? reader.line)
            }
        }
    }

    private static func bankCSV(_ reader: TOMLTableReader) throws(TOMLError) -> BankCSVOptions {
        var authHeader: (name: String, secret: SecretReference)?
        if let table = try reader.optionalTable("auth_header") {
            let headerName = try table.string("name")
            guard !headerName.isEmpty,
                headerName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else {
                throw table.error(at: "name", "`\(table.keyPath("name"))` must be an HTTP header name")
            }
            guard let secret = try SecretReference.read(table, "secret") else {
                throw table.error(at: "secret", "missing key `\(table.keyPath("secret"))`")
            }
            try table.finish()
            authHeader = (headerName, secret)
        }
        let compressionText = try reader.optionalString("compression") ?? "none"
        guard let compression = BankCSVOptions.Compression(rawValue: compressionText) else {
            throw reader.error(at: "compression", "`\(reader.keyPath("compression"))` must be none, gzip or zip")
        }
        let zipEntry = try reader.optionalString("zip_entry")
        if zipEntry != nil, compression != .zip {
            throw reader.error(at: "zip_entry", "`\(reader.keyPath("zip_entry"))` needs compression = \"zip\"")
        }
        return BankCSVOptions(
            urlTemplate: try reader.string("url_template"), authHeader: authHeader, compression: compression,
            zipEntry: zipEntry, sha256Suffix: try reader.optionalString("sha256_suffix"),
            profile: try profile(reader))
    }

    /// The file's layout: `recon-bank-v1` when the table sets none of the profile keys, else
    /// the keys as written (then `columns` is required: a layout is not half guessed).
    private static func profile(_ reader: TOMLTableReader) throws(TOMLError) -> BankCSVProfile {
        let keys = [
            "columns", "header", "encoding", "delimiter", "quote", "skip_lines", "comment_prefix", "kind_map",
            "amount_unit",
            "refund_sign", "fee_sign", "time_format", "trailer",
        ]
        guard keys.contains(where: reader.contains) else { return .reconBankV1 }
        return try BankCSVProfile(reading: reader)
    }

    private static func secret(_ reader: TOMLTableReader, _ key: String) throws(TOMLError) -> SecretReference {
        guard let reference = try SecretReference.read(reader, key) else {
            throw reader.error(
                at: key,
                "missing key `\(reader.keyPath(key))` (a reference: { file = \"/path\" } or { env = \"NAME\" })")
        }
        return reference
    }

    /// An http(s) URL with a host and no user or password in it (that would be a secret inline).
    private static func url(_ reader: TOMLTableReader, _ key: String, text given: String? = nil) throws(TOMLError)
        -> String
    {
        let text: String
        if let given { text = given } else { text = try reader.string(key) }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else {
            throw reader.error(at: key, "`\(reader.keyPath(key))` is not an http(s) URL with a host")
        }
        guard components.user == nil, components.password == nil else {
            throw reader.error(
                at: key, "`\(reader.keyPath(key))` must not carry a user or password; use a secret reference")
        }
        return text
    }

    private static func maxBillBytes(_ reader: TOMLTableReader) throws(TOMLError) -> Int64 {
        guard let bytes = try reader.optionalInt64("max_bill_bytes") else { return 4 << 30 }
        guard (1024...(1 << 40)).contains(bytes) else {
            throw reader.error(
                at: "max_bill_bytes", "`\(reader.keyPath("max_bill_bytes"))` must be between 1024 and 1 TiB")
        }
        return bytes
    }

    /// A wall time after the midnight that ends the bill's day: up to 23:59, or with `nextDayToo`
    /// up to 47:59 (the day after that).
    private static func clock(_ reader: TOMLTableReader, _ key: String, nextDayToo: Bool = false) throws(TOMLError)
        -> Int?
    {
        guard let text = try reader.optionalString(key) else { return nil }
        guard let minutes = ClockTime.minutes(text, hourLimit: nextDayToo ? 48 : 24) else {
            throw reader.error(
                at: key,
                "`\(reader.keyPath(key))` must be a local time HH:MM\(nextDayToo ? " up to 47:59" : ""), found \"\(text)\""
            )
        }
        return minutes
    }

    /// Any string that looks like key material is refused wherever it sits: a PEM block or a
    /// key under a secret-sounding name that is not a reference.
    private static func refuseInlineSecrets(_ table: TOMLTable, reader: TOMLTableReader, path: String) throws(TOMLError)
    {
        for (key, node) in table.entries {
            let keyPath = TOMLKeyPath.appending(key, to: path)
            switch node.value {
            case .string(let text):
                let lowered = key.lowercased()
                let secretName = ["password", "secret", "token", "private_key", "api_key", "apikey"].contains {
                    lowered.contains($0)
                }
                if text.contains("-----BEGIN") || secretName {
                    throw TOMLError(
                        file: reader.file, line: node.line, column: node.column,
                        message:
                            "`\(keyPath)` holds a secret inline; write { file = \"/path\" }, { env = \"NAME\" } or "
                            + "{ credential = \"NAME\" } instead"
                    )
                }
            case .table(let inner):
                try refuseInlineSecrets(inner, reader: reader, path: keyPath)
            default:
                continue
            }
        }
    }
}
