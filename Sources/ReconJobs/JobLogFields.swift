import Foundation

/// Which arguments of a job say what it is about in log lines, by kind: `fetch_bill`'s `channel`
/// and `date` as `bill.channel` and `bill.date`. Workers and coordinators log every job outcome
/// with the job's id and kind and these fields, so a channel-day's dead bill is found in the logs,
/// not only in the database.
public struct JobLogFields: Sendable {
    private var byKind: [String: [Field]] = [:]

    private struct Field: Sendable {
        var argument: String
        var key: String
    }

    public init() {}

    /// Logs argument `argument` of jobs of `kind` under `key` (dotted, `bill.channel`).
    public mutating func register(kind: String, argument: String, as key: String) {
        byKind[kind, default: []].append(Field(argument: argument, key: key))
    }

    /// What every log line about one job carries: `job.id`, `job.kind`, `job.attempt` and the
    /// kind's registered fields.
    public func metadata(id: Int64, kind: String, attempt: Int, args: String) -> [String: String] {
        var metadata = fields(kind: kind, args: args)
        metadata["job.id"] = "\(id)"
        metadata["job.kind"] = kind
        metadata["job.attempt"] = "\(attempt)"
        return metadata
    }

    /// The registered fields of one job: its string and number arguments under their
    /// keys. Arguments that are missing, nested, or in arguments that are not a JSON object are
    /// left out: a log line never fails for them.
    public func fields(kind: String, args: String) -> [String: String] {
        guard let fields = byKind[kind], !fields.isEmpty,
            let object = try? JSONSerialization.jsonObject(with: Data(args.utf8)) as? [String: Any]
        else { return [:] }
        var result: [String: String] = [:]
        for field in fields {
            switch object[field.argument] {
            case let text as String: result[field.key] = text
            case let number as NSNumber: result[field.key] = number.stringValue
            default: break
            }
        }
        return result
    }
}
