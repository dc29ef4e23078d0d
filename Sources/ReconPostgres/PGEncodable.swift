public import Foundation

/// One statement parameter as libpq takes it: a type, a format and bytes (nil is SQL NULL).
public struct PGParameter: Sendable {
    public var oid: PGOid
    /// Text parameters are sent as NUL-terminated strings; binary ones with their length.
    public var isBinary: Bool
    public var bytes: [UInt8]?

    public init(oid: PGOid, isBinary: Bool = false, bytes: [UInt8]?) {
        self.oid = oid
        self.isBinary = isBinary
        self.bytes = bytes
    }

    public static func text(_ value: String, oid: PGOid) -> PGParameter {
        PGParameter(oid: oid, bytes: Array(value.utf8))
    }
}

/// A Swift value that can be a statement parameter.
public protocol PGEncodable: Sendable {
    var pgParameter: PGParameter { get }
}

extension Int64: PGEncodable {
    public var pgParameter: PGParameter { .text(String(self), oid: .int8) }
}

extension Int32: PGEncodable {
    public var pgParameter: PGParameter { .text(String(self), oid: .int4) }
}

extension Int: PGEncodable {
    public var pgParameter: PGParameter { .text(String(self), oid: .int8) }
}

extension Bool: PGEncodable {
    public var pgParameter: PGParameter { .text(self ? "t" : "f", oid: .bool) }
}

extension String: PGEncodable {
    public var pgParameter: PGParameter { .text(self, oid: .text) }
}

extension Substring: PGEncodable {
    public var pgParameter: PGParameter { .text(String(self), oid: .text) }
}

/// `bytea`, sent in binary so a 10 MB value is not doubled into hex on the way.
extension Data: PGEncodable {
    public var pgParameter: PGParameter { PGParameter(oid: .bytea, isBinary: true, bytes: Array(self)) }
}

extension Array: PGEncodable where Element == UInt8 {
    public var pgParameter: PGParameter { PGParameter(oid: .bytea, isBinary: true, bytes: self) }
}

extension PGDate: PGEncodable {
    public var pgParameter: PGParameter { .text(description, oid: .date) }
}

extension PGTimestamp: PGEncodable {
    public var pgParameter: PGParameter { .text(description, oid: .timestamptz) }
}

/// A `Date` goes in as `timestamptz`, rounded to the microsecond PostgreSQL keeps.
extension Date: PGEncodable {
    public var pgParameter: PGParameter {
        let micros = (timeIntervalSince1970 * 1_000_000).rounded()
        // NaN or beyond ±292,000 years has no timestamptz; send the server's own out-of-range words.
        guard let exact = Int64(exactly: micros) else {
            return .text(micros < 0 ? "-infinity" : "infinity", oid: .timestamptz)
        }
        return PGTimestamp(microsecondsSince1970: exact).pgParameter
    }
}

extension PGNumeric: PGEncodable {
    public var pgParameter: PGParameter { .text(text, oid: .numeric) }
}

extension PGJSON: PGEncodable {
    public var pgParameter: PGParameter { .text(text, oid: .jsonb) }
}

extension Optional: PGEncodable where Wrapped: PGEncodable {
    /// NULL goes with an unspecified type, so the server infers it from the statement.
    public var pgParameter: PGParameter {
        self.map(\.pgParameter) ?? PGParameter(oid: .unspecified, bytes: nil)
    }
}
