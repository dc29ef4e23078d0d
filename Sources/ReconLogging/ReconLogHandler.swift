public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes each event as one line, logfmt or JSON: `ts`, `level`, `logger`, `msg`, then the
/// logger's and the event's metadata by key (`job.id`, `job.kind`, `job.attempt`, `bill.channel`,
/// `bill.date`, `worker.id`, …), then `error` when the event carries one.
///
/// Secrets are kept out of log lines where they are made: nothing logs the token, a database
/// URL or a key. `redacting` is a second line of defence for the secrets a process knows from
/// its environment: any line that still holds one has it replaced by `[redacted]`.
public struct ReconLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let secrets: [String]
    let output: @Sendable (String) -> Void

    public init(
        label: String, format: LogFormat, level: Logger.Level = .info, redacting secrets: [String] = [],
        metadataProvider: Logger.MetadataProvider? = nil,
        output: @escaping @Sendable (String) -> Void = ReconLogHandler.standardError
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        // Short values would blank out ordinary words; secrets this short are refused elsewhere.
        self.secrets = secrets.filter { $0.utf8.count >= 6 }
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let more = event.metadata { merged.merge(more) { $1 } }
        var fields: [(key: String, value: String)] = [
            ("ts", Self.timestamp()), ("level", event.level.rawValue), ("logger", label), ("msg", "\(event.message)"),
        ]
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            fields.append((key, "\(value)"))
        }
        if let error = event.error, merged["error"] == nil { fields.append(("error", "\(error)")) }
        var line = LogLine.render(fields, as: format)
        for secret in secrets where Self.bytes(of: line, contain: secret) {
            line = line.replacing(secret, with: "[redacted]")
        }
        output(line + "\n")
    }

    /// Whether `needle`'s UTF-8 bytes occur in `text`'s: a byte search, as every line is
    /// looked through for each secret and String.contains compares characters (it was a third of
    /// the logging's time when every job logs its outcome).
    static func bytes(of text: String, contain needle: String) -> Bool {
        var text = text
        var needle = needle
        return text.withUTF8 { haystack in
            needle.withUTF8 { wanted in
                guard let start = haystack.baseAddress, let pattern = wanted.baseAddress, wanted.count > 0,
                    haystack.count >= wanted.count
                else { return wanted.count == 0 }
                let first = wanted[0]
                for offset in 0...(haystack.count - wanted.count)
                where haystack[offset] == first && memcmp(start + offset, pattern, wanted.count) == 0 {
                    return true
                }
                return false
            }
        }
    }

    private static let writeLock = Mutex(())

    /// Whole lines to stderr, one `write` each under a lock, so the lines of concurrent tasks never
    /// interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        writeLock.withLock { _ in
            let bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    write(2, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    /// RFC 3339 in UTC with milliseconds: `2026-11-24T02:00:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return
            "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
