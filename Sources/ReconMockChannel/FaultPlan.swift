import Foundation
import Synchronization

/// What the mock does wrong on purpose, per channel and date, so every way a real channel fails
/// can be replayed: set at start (`--fault`) or through `POST /admin/faults`.
public struct Fault: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// HTTP 503 from the API (or the file server).
        case fail503 = "fail_503"
        /// HTTP 429 with `Retry-After: <argument>` seconds (default 1).
        case rateLimit429 = "rate_limit_429"
        /// The channel's "not published yet" answer.
        case notReady = "not_ready"
        /// The channel's "no business that day" answer (an empty bill for bank files). A fact about
        /// the day: it holds for every request, whatever `times` says.
        case noBusiness = "no_business"
        /// The download stops halfway and the connection closes (Content-Length promised more).
        case cutBody = "cut_body"
        /// A 200 with only the first half of the file, Content-Length matching the half.
        case truncatedBody = "truncated_body"
        /// The API announces a hash that is not the file's.
        case wrongHash = "wrong_hash"
        /// One byte in the middle of the compressed file flipped.
        case corruptArchive = "corrupt_archive"
        /// The download trickles at `<argument>` bytes per second (default 4096).
        case slow
        /// The channel refuses our credentials (401, SIGN_ERROR, 40002 …).
        case authError = "auth_error"
        /// The answer's signature does not verify (one bit of it flipped), as a tampered answer's
        /// would not: UnionPay's answer, Alipay's download URL, WeChat Pay's bill application;
        /// for WeChat Pay, argument 1 leaves `Wechatpay-Signature-Type` out and 2 names SM2 in it.
        case badSignature = "bad_signature"
        /// The download URL has expired by the time it is used (Alipay's 410 page, WeChat Pay's
        /// `400 INVALID_REQUEST`), as when a download starts more than 30 s after the URL was issued.
        case expiredURL = "expired_url"
    }

    /// `alipay`, `wechatpay`, `unionpay`, `bank`, or `*`.
    public var channel: String
    /// `YYYY-MM-DD` or `*`.
    public var date: String
    public var kind: Kind
    /// How many requests it affects; 0 means every request.
    public var times: Int
    public var argument: Int?

    public init(channel: String, date: String, kind: Kind, times: Int = 1, argument: Int? = nil) {
        self.channel = channel
        self.date = date
        self.kind = kind
        self.times = times
        self.argument = argument
    }

    /// `channel:date:kind[:times[:argument]]`, e.g. `wechatpay:2026-11-23:fail_503:2`.
    public init?(spec: String) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (3...5).contains(parts.count), let kind = Kind(rawValue: parts[2]) else { return nil }
        let times = parts.count > 3 ? Int(parts[3]) : 1
        let argument = parts.count > 4 ? Int(parts[4]) : nil
        guard let times, times >= 0, parts.count <= 4 || argument != nil else { return nil }
        self.init(channel: parts[0], date: parts[1], kind: kind, times: times, argument: argument)
    }
}

/// The faults in force, consumed as requests arrive.
public final class FaultPlan: Sendable {
    private struct Entry {
        var fault: Fault
        var remaining: Int?
    }

    private let entries = Mutex<[Entry]>([])

    public init(_ faults: [Fault] = []) {
        add(faults)
    }

    public func add(_ faults: [Fault]) {
        entries.withLock { entries in
            entries += faults.map { Entry(fault: $0, remaining: $0.times == 0 ? nil : $0.times) }
        }
    }

    public func clear() {
        entries.withLock { $0 = [] }
    }

    public var active: [Fault] {
        entries.withLock { $0.map(\.fault) }
    }

    /// Whether a fault of `kind` is set for the channel and date, without using it up: for facts
    /// about a day (no business) that every request for it must agree on.
    func contains(channel: String, date: String, kind: Fault.Kind) -> Bool {
        entries.withLock { entries in
            entries.contains { entry in
                entry.fault.kind == kind && (entry.fault.channel == "*" || entry.fault.channel == channel)
                    && (entry.fault.date == "*" || entry.fault.date == date)
            }
        }
    }

    /// The first fault in force for this request among `kinds`, used up by one.
    func take(channel: String, date: String, kinds: Set<Fault.Kind>) -> Fault? {
        entries.withLock { entries in
            guard
                let index = entries.firstIndex(where: { entry in
                    kinds.contains(entry.fault.kind) && (entry.fault.channel == "*" || entry.fault.channel == channel)
                        && (entry.fault.date == "*" || entry.fault.date == date) && entry.remaining != 0
                })
            else { return nil }
            if let remaining = entries[index].remaining { entries[index].remaining = remaining - 1 }
            return entries[index].fault
        }
    }
}
