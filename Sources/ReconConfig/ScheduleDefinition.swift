public import Foundation
public import ReconCore

/// One `[[schedule]]` of a job file: a cron schedule in a time zone, and the job it enqueues.
///
/// ```toml
/// [[schedule]]
/// name = "daily-reconciliation"
/// cron = "30 9 * * *"
/// time_zone = "Asia/Shanghai"
/// kind = "run_day"
/// args = { business_day = "{yesterday}" }
/// unique_key = "run_day:{yesterday}"
/// catch_up = "36h"
/// retry = { max_attempts = 20, base = "1s", cap = "1h" }
/// ```
///
/// In `args` strings and `unique_key`, `{date}` is the firing's local date in the schedule's zone,
/// `{yesterday}` the day before it, and `{fire_time}` the firing instant in UTC.
public struct ScheduleDefinition: Sendable, Equatable {
    public var name: String
    public var schedule: CronSchedule
    public var kind: String
    public var queue: String
    public var priority: Int
    /// The args table, kept as TOML so placeholders are filled per firing.
    public var args: TOMLTable
    /// Defaults to `cron:<name>:<fire_time>`: one job per firing, however many coordinators fire.
    public var uniqueKeyTemplate: String
    /// Firings missed while no coordinator ran are enqueued at start if they are this recent.
    public var catchUpMilliseconds: Int64
    public var retry: RetryPolicy
    /// Where it was defined, for messages.
    public var file: String
    public var line: Int

    /// A firing's concrete job: the args as JSON text and the unique key, placeholders filled.
    public func firing(at instant: Date) -> (args: String, uniqueKey: String) {
        let day = schedule.localDay(of: instant)
        let values = [
            "{date}": day.description, "{yesterday}": day.previous.description,
            "{fire_time}": ISO8601DateFormatter().string(from: instant),
        ]
        func fill(_ text: String) -> String {
            values.reduce(text) { result, pair in result.replacingOccurrences(of: pair.key, with: pair.value) }
        }
        return (JSONText.object(args, transform: fill), fill(uniqueKeyTemplate))
    }
}

/// Turns a TOML table into JSON text (strings transformed on the way), for job arguments.
extension JSONText {
    static func object(_ table: TOMLTable, transform: (String) -> String) -> String {
        "{"
            + table.keys.compactMap { key in
                table[key].map { quoted(key) + ":" + value($0.value, transform) }
            }.joined(separator: ",") + "}"
    }

    static func value(_ value: TOMLValue, _ transform: (String) -> String) -> String {
        switch value {
        case .string(let text): return quoted(transform(text))
        case .integer(let number): return String(number)
        case .float(_, let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let nodes): return "[" + nodes.map { self.value($0.value, transform) }.joined(separator: ",") + "]"
        case .table(let table): return object(table, transform: transform)
        }
    }
}

/// What the job files define: cron schedules and payment channels.
public struct JobFileContents: Sendable {
    public var schedules: [ScheduleDefinition] = []
    public var channels: [ChannelDefinition] = []

    public init(schedules: [ScheduleDefinition] = [], channels: [ChannelDefinition] = []) {
        self.schedules = schedules
        self.channels = channels
    }

    public func channel(named name: String) -> ChannelDefinition? { channels.first { $0.name == name } }
}

/// Reads the `[[schedule]]` and `[[channel]]` tables of job files.
public enum JobFile {
    /// Parses one job file's text. Errors name the file, the line and the key.
    public static func parse(_ text: String, file: String) throws(TOMLError) -> JobFileContents {
        let root = try TOMLTableReader(parsing: text, file: file)
        var contents = JobFileContents()
        for entry in try root.optionalTableArray("schedule") ?? [] {
            contents.schedules.append(try schedule(entry))
        }
        for entry in try root.optionalTableArray("channel") ?? [] {
            let channel = try ChannelReader.read(entry)
            try entry.finish()
            contents.channels.append(channel)
        }
        try root.finish()
        return contents
    }

    /// The schedules of one job file's text.
    public static func schedules(in text: String, file: String) throws(TOMLError) -> [ScheduleDefinition] {
        try parse(text, file: file).schedules
    }

    /// Every `*.toml` in `directory`, in name order; schedule and channel names must be unique
    /// across files.
    public static func load(directory: String) throws -> JobFileContents {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".toml") }
                .sorted()
        } catch {
            throw TOMLError(
                file: directory, line: 0, column: nil,
                message: "cannot list the job folder: \(error.localizedDescription)")
        }
        var all = JobFileContents()
        for name in names {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TOMLError(file: path, line: 0, column: nil, message: "cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw TOMLError(file: path, line: 0, column: nil, message: "is not UTF-8 text")
            }
            let contents = try parse(text, file: path)
            for definition in contents.schedules {
                if let earlier = all.schedules.first(where: { $0.name == definition.name }) {
                    throw TOMLError(
                        file: path, line: definition.line, column: nil,
                        message: "schedule name `\(definition.name)` is also used at \(earlier.file):\(earlier.line)")
                }
                all.schedules.append(definition)
            }
            for channel in contents.channels {
                if let earlier = all.channels.first(where: { $0.name == channel.name }) {
                    throw TOMLError(
                        file: path, line: channel.line, column: nil,
                        message: "channel name `\(channel.name)` is also used at \(earlier.file):\(earlier.line)")
                }
                all.channels.append(channel)
            }
        }
        return all
    }

    /// The schedules of every job file in `directory`.
    public static func loadSchedules(directory: String) throws -> [ScheduleDefinition] {
        try load(directory: directory).schedules
    }

    private static func schedule(_ reader: TOMLTableReader) throws(TOMLError) -> ScheduleDefinition {
        let name = try reader.string("name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw reader.error(at: "name", "`\(reader.keyPath("name"))` must be letters, digits, '-', '_' or '.'")
        }
        let zoneName = try reader.string("time_zone")
        guard let zone = TimeZone(identifier: zoneName) else {
            throw reader.error(at: "time_zone", "`\(reader.keyPath("time_zone"))`: unknown time zone \(zoneName)")
        }
        let expression = try reader.string("cron")
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(expression, timeZone: zone)
        } catch {
            throw reader.error(at: "cron", "`\(reader.keyPath("cron"))`: \(error)")
        }
        let kind = try reader.string("kind")
        guard !kind.isEmpty else { throw reader.error(at: "kind", "`\(reader.keyPath("kind"))` must not be empty") }
        let queue = try reader.optionalString("queue") ?? "default"
        let priority = try reader.optionalInt("priority", in: 0...32767) ?? 1
        // The args table is free-form (each job kind reads its own), so it is taken whole rather
        // than through a reader that would call its keys unknown.
        var args = TOMLTable()
        if let node = reader.node("args") {
            guard case .table(let table) = node.value else {
                throw reader.error(
                    at: "args", "`\(reader.keyPath("args"))` must be a table, e.g. args = { day = \"{yesterday}\" }")
            }
            args = table
        }
        let uniqueKey = try reader.optionalString("unique_key") ?? "cron:\(name):{fire_time}"
        let catchUp = try JobFile.duration(reader, "catch_up", in: 0...366 * JobFile.dayMilliseconds) ?? 86_400_000
        var retry = RetryPolicy()
        if let table = try reader.optionalTable("retry") {
            retry.maxAttempts = try table.optionalInt("max_attempts", in: 1...1000) ?? retry.maxAttempts
            retry.baseMilliseconds =
                try JobFile.duration(table, "base", in: 0...30 * JobFile.dayMilliseconds) ?? retry.baseMilliseconds
            retry.capMilliseconds =
                try JobFile.duration(table, "cap", in: 0...30 * JobFile.dayMilliseconds) ?? retry.capMilliseconds
            try table.finish()
        }
        try reader.finish()
        return ScheduleDefinition(
            name: name, schedule: schedule, kind: kind, queue: queue, priority: priority, args: args,
            uniqueKeyTemplate: uniqueKey, catchUpMilliseconds: catchUp, retry: retry, file: reader.file,
            line: reader.line)
    }

    /// A duration within `range` milliseconds, so no later arithmetic on it can overflow.
    static func duration(_ reader: TOMLTableReader, _ key: String, in range: ClosedRange<Int64>) throws(TOMLError)
        -> Int64?
    {
        guard let text = try reader.optionalString(key) else { return nil }
        guard let milliseconds = DurationText.milliseconds(text) else {
            throw reader.error(
                at: key,
                "`\(reader.keyPath(key))` must be a duration like \"90s\", \"10m\" or \"36h\", found \"\(text)\"")
        }
        guard range.contains(milliseconds) else {
            throw reader.error(
                at: key,
                "`\(reader.keyPath(key))` must be between \(range.lowerBound) ms and \(range.upperBound / 1000) s")
        }
        return milliseconds
    }

    static let dayMilliseconds: Int64 = 86_400_000
}
