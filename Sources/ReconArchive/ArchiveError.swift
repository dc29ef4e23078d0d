/// A compressed file or archive refused: which file (a path or the caller's label), which entry
/// inside it if any, which check failed ("zip CRC-32", "gzip", "size cap", "entry name", ...) and why.
///
/// Bytes already handed to a caller's callback before one of these is thrown must be thrown
/// away with it: nothing is verified until the call returns normally.
public struct ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var entry: String?
    public var check: String
    public var reason: String

    public init(file: String, entry: String? = nil, check: String, reason: String) {
        self.file = file
        self.entry = entry
        self.check = check
        self.reason = reason
    }

    public var description: String {
        var place = file
        if let entry { place += ": entry \(entry)" }
        return "\(place): \(check): \(reason)"
    }
}
