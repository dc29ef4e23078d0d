/// Why a cron expression was rejected, precise enough to fix the job file without a manual:
/// `field 2 (hour): 24 is out of range 0–23`.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1 (minute) to 5 (day of week); nil when the expression as a whole is malformed.
    public let field: Int?
    /// The field's name as written in messages ("day of month"); nil with `field`.
    public let fieldName: String?
    /// What is wrong, without the field prefix.
    public let reason: String

    public init(field: Int?, fieldName: String?, reason: String) {
        self.field = field
        self.fieldName = fieldName
        self.reason = reason
    }

    public var description: String {
        guard let field, let fieldName else { return reason }
        return "field \(field) (\(fieldName)): \(reason)"
    }
}
