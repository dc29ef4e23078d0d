public import Foundation
public import ReconBills
public import ReconCore

/// One `[[channel]]` of a job file: where a payment channel publishes its daily bill, how to ask
/// for it, and how hard Recon may press it.
///
/// ```toml
/// [[channel]]
/// name = "wechat-main"
/// adapter = "wechatpay"                 # alipay | wechatpay | unionpay | bank_csv
/// base_url = "https://api.mch.weixin.qq.com"
/// merchant_id = "1900000000"
/// certificate_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
/// private_key = { file = "/etc/recon/wechat-main.pem" }
/// ready_after = "10:00"                 # Beijing time, the day after the bill's date
/// deadline = "14:00"
/// poll_interval = "10m"                 # asking again for a bill not yet published
/// retry = { max_attempts = 12, base = "30s", cap = "20m" }
/// limits = { concurrent_requests = 2, requests_per_second = 5 }
/// ```
///
/// One merchant per table: a second merchant of the same channel is a second table.
public struct ChannelDefinition: Sendable {
    public var name: String
    public var adapter: ChannelAdapterOptions
    /// The API's base URL (Alipay's gateway, WeChat's API host, UnionPay's file-transfer
    /// endpoint); for `bank_csv` the host part of `url_template`.
    public var baseURL: String
    public var merchantID: String
    public var connectTimeoutMilliseconds: Int64
    public var totalTimeoutMilliseconds: Int64
    public var retry: RetryPolicy
    /// Minutes after local midnight of the day after the bill's date: before this a missing bill
    /// is expected; after `deadline` it is an alert and the fetch gives up.
    public var readyAfterMinutes: Int
    public var deadlineMinutes: Int
    /// How often to ask again for a bill that is not published yet, once past `ready_after`.
    public var pollIntervalMilliseconds: Int64
    /// How many times past the deadline a fetch with few asks behind it asks again (`late_polls`).
    public var latePolls: Int = 3
    /// The zone `ready_after` and `deadline` are read in (every channel writes Beijing time). Kept
    /// as the zone, not an offset: each day's times ask it for that day's offset.
    public var timeZone: TimeZone
    /// Reconcile shards per channel-day (`shards`): each a job of its own, run in parallel.
    public var shards: Int
    /// How close to midnight an unpaired item may be and still be looked for on the neighbouring
    /// day's bill (`carry_over_window`, 5 minutes by default).
    public var carryOverWindowMilliseconds: Int64 = 5 * 60_000
    /// The most a bill may unpack to (an archive past it is refused, not written out).
    public var maxBillBytes: Int64
    public var limits: ChannelLimits
    /// The job queue its fetches run on.
    public var queue: String
    public var file: String
    public var line: Int
    /// Every secret the channel names, with the line it is named on: a worker checks them all at
    /// start, so a missing one stops it there rather than failing every fetch later.
    public var secrets: [SecretUse] = []

    /// When, in microseconds since 1970, the bill of `day` is normally ready, and when it is late:
    /// the wall times after the next local midnight, each turned into an instant with the zone's
    /// offset at that time (a change of offset overnight moves them with it).
    public func readyAndDeadline(for day: LocalDay) -> (ready: Int64, deadline: Int64) {
        let nextMidnight = Int64(day.adding(days: 1).dayNumber) * 86_400
        func instant(_ minutes: Int) -> Int64 {
            ZoneTime.instant(ofWallSeconds: nextMidnight + Int64(minutes) * 60, in: timeZone) * 1_000_000
        }
        return (instant(readyAfterMinutes), instant(deadlineMinutes))
    }

    /// "HH:MM" as the job file writes it (up to 47:59).
    public var deadlineText: String { ClockTime.text(minutes: deadlineMinutes) }

    /// The deadline for the bill of `day` as a person reads it, with its date and zone: "bill for
    /// 2026-11-23 not published by 2026-11-24 14:00 Asia/Shanghai".
    public func deadlineText(for day: LocalDay) -> String {
        "\(day.adding(days: 1 + deadlineMinutes / 1440)) \(ClockTime.text(minutes: deadlineMinutes % 1440)) "
            + timeZone.identifier
    }
}

/// A secret reference as a job file writes it: the key's path and the line it is on.
public struct SecretUse: Sendable, Equatable {
    public var keyPath: String
    public var reference: SecretReference
    public var line: Int

    public init(keyPath: String, reference: SecretReference, line: Int) {
        self.keyPath = keyPath
        self.reference = reference
        self.line = line
    }
}

/// How many requests one channel may have in flight, and start per second, across every worker.
public struct ChannelLimits: Sendable, Equatable {
    public var concurrentRequests: Int
    public var requestsPerSecond: Int

    public init(concurrentRequests: Int = 2, requestsPerSecond: Int = 5) {
        self.concurrentRequests = concurrentRequests
        self.requestsPerSecond = requestsPerSecond
    }
}

/// The adapter and what only it needs.
public enum ChannelAdapterOptions: Sendable {
    case alipay(AlipayOptions)
    case wechatpay(WeChatPayOptions)
    case unionpay(UnionPayOptions)
    case bankCSV(BankCSVOptions)

    public var name: String {
        switch self {
        case .alipay: return "alipay"
        case .wechatpay: return "wechatpay"
        case .unionpay: return "unionpay"
        case .bankCSV: return "bank_csv"
        }
    }

    public static let names = ["alipay", "wechatpay", "unionpay", "bank_csv"]
}

public struct AlipayOptions: Sendable, Equatable {
    public var appID: String
    /// The app's RSA private key (PEM), for the RSA2 request signature.
    public var privateKey: SecretReference
    /// Alipay's public key (PEM) for response signatures; without it responses are not verified.
    public var alipayPublicKey: SecretReference?
    /// A service provider acting for the merchant.
    public var appAuthToken: SecretReference?
}

public struct WeChatPayOptions: Sendable, Equatable {
    /// The merchant certificate's serial number, sent in the Authorization header.
    public var certificateSerial: String
    public var privateKey: SecretReference
    /// WeChat Pay's platform public key (PEM); without it responses are not verified.
    public var platformPublicKey: SecretReference?
}

public struct UnionPayOptions: Sendable, Equatable {
    /// The signing certificate's id (`certId`).
    public var certificateID: String
    public var privateKey: SecretReference
    /// UnionPay's root certificate (PEM); with it every answer's `signPubKeyCert` must chain to it
    /// and `signature` must verify, without it answers are not verified.
    public var rootCertificate: SecretReference?
    /// The intermediate between the root and the signing certificate (PEM).
    public var middleCertificate: SecretReference?
}

public struct BankCSVOptions: Sendable, Equatable {
    public enum Compression: String, Sendable, Equatable, CaseIterable {
        case none, gzip, zip
    }

    /// `https://bank.example/bills/{merchant}/{date:%Y%m%d}.csv`.
    public var urlTemplate: String
    public var authHeader: (name: String, secret: SecretReference)?
    public var compression: Compression
    /// With zip: a glob (`*.csv`) exactly one entry must match.
    public var zipEntry: String?
    /// When set, `<url><suffix>` holds the file's SHA-256 in hex, checked before parsing.
    public var sha256Suffix: String?
    /// How the file is written: encoding, delimiter, columns, kinds, signs, trailer.
    public var profile: BankCSVProfile

    public static func == (lhs: BankCSVOptions, rhs: BankCSVOptions) -> Bool {
        lhs.urlTemplate == rhs.urlTemplate && lhs.authHeader?.name == rhs.authHeader?.name
            && lhs.authHeader?.secret == rhs.authHeader?.secret && lhs.compression == rhs.compression
            && lhs.zipEntry == rhs.zipEntry && lhs.sha256Suffix == rhs.sha256Suffix && lhs.profile == rhs.profile
    }

    /// The bill's URL for `day`: `{merchant}` and `{date:FORMAT}` (strftime's %Y %m %d) filled.
    public func url(merchant: String, day: LocalDay) -> String {
        var result = urlTemplate.replacingOccurrences(of: "{merchant}", with: merchant)
        while let open = result.range(of: "{date:"), let close = result[open.upperBound...].firstIndex(of: "}") {
            let format = String(result[open.upperBound..<close])
            result.replaceSubrange(open.lowerBound...close, with: ClockTime.format(day, format))
        }
        return result.replacingOccurrences(of: "{date}", with: day.description)
    }
}

/// Local wall-clock times of day in job files ("09:00").
enum ClockTime {
    /// Minutes of "HH:MM", hours below `hourLimit` (48 lets a deadline fall on the second day).
    static func minutes(_ text: String, hourLimit: Int = 24) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<hourLimit).contains(hours),
            (0..<60).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }

    /// Up to 47:59, so a deadline can fall on the second day after the bill's date.
    static func text(minutes: Int) -> String {
        let hours = minutes / 60
        let rest = minutes % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
    }

    static func format(_ day: LocalDay, _ format: String) -> String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return format.replacingOccurrences(of: "%Y", with: pad(day.year, 4))
            .replacingOccurrences(of: "%m", with: pad(day.month, 2))
            .replacingOccurrences(of: "%d", with: pad(day.day, 2))
    }
}
