public import Logging
import Synchronization

/// An in-memory log for tests: a `Logger` whose lines are kept, with their metadata, to be
/// looked at afterwards.
public final class LogRecorder: Sendable {
    public struct Line: Sendable, CustomStringConvertible {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]

        public var description: String {
            "\(level) \(message) "
                + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    private let recorded = Mutex<[Line]>([])

    public init() {}

    public var lines: [Line] { recorded.withLock { $0 } }

    /// The lines whose metadata has `key` equal to `value`.
    public func lines(where key: String, is value: String) -> [Line] { lines.filter { $0.metadata[key] == value } }

    /// A logger that writes here, at `level` and above.
    public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: Line) { recorded.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.append(
                Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}
