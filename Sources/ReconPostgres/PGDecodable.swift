public import Foundation

/// A Swift value that can be read from a result column. Results arrive in PostgreSQL's binary format.
public protocol PGDecodable: Sendable {
    /// Decodes a non-NULL value of server type `oid`.
    static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Self
    /// The value for SQL NULL; throws for non-optional types.
    static func pgDecodeNull() throws(PGDecodingFailure) -> Self
}

extension PGDecodable {
    public static func pgDecodeNull() throws(PGDecodingFailure) -> Self {
        throw PGDecodingFailure("is NULL; decode it as \(Self.self)? to accept NULL")
    }
}

/// Why one column did not decode; `PGRow` wraps it into a `PGError` naming the column.
public struct PGDecodingFailure: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }

    static func type(_ oid: PGOid, _ swiftType: Any.Type) -> PGDecodingFailure {
        PGDecodingFailure("has server type oid \(oid.rawValue), which does not decode as \(swiftType)")
    }
}

/// Reads a big-endian integer of exactly `T`'s size.
func readBigEndian<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, as: T.Type) throws(PGDecodingFailure) -> T {
    guard bytes.count == MemoryLayout<T>.size else {
        throw PGDecodingFailure("has \(bytes.count) bytes where \(MemoryLayout<T>.size) were expected")
    }
    var value: T = 0
    for byte in bytes { value = value << 8 | T(truncatingIfNeeded: byte) }
    return value
}

extension Int64: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Int64 {
        switch oid {
        case .int8: return try readBigEndian(bytes, as: Int64.self)
        case .int4: return Int64(try readBigEndian(bytes, as: Int32.self))
        case .int2: return Int64(try readBigEndian(bytes, as: Int16.self))
        case .oid: return Int64(try readBigEndian(bytes, as: UInt32.self))
        default: throw .type(oid, Int64.self)
        }
    }
}

extension Int32: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Int32 {
        switch oid {
        case .int4: return try readBigEndian(bytes, as: Int32.self)
        case .int2: return Int32(try readBigEndian(bytes, as: Int16.self))
        default: throw .type(oid, Int32.self)
        }
    }
}

extension Int: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Int {
        Int(try Int64.pgDecode(bytes, oid: oid))
    }
}

extension Bool: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Bool {
        guard oid == .bool else { throw .type(oid, Bool.self) }
        guard bytes.count == 1 else { throw PGDecodingFailure("has \(bytes.count) bytes for a bool") }
        return bytes[0] != 0
    }
}

extension String: PGDecodable {
    /// Text types as they are; `numeric` as exact decimal text; `json`/`jsonb` as their text.
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> String {
        switch oid {
        case .text, .varchar, .bpchar, .name, .json, .unspecified:
            return try decodeUTF8(bytes)
        case .jsonb:
            return try PGJSON.pgDecode(bytes, oid: oid).text
        case .numeric:
            return try PGNumeric.pgDecode(bytes, oid: oid).text
        default:
            throw .type(oid, String.self)
        }
    }
}

func decodeUTF8(_ bytes: UnsafeRawBufferPointer) throws(PGDecodingFailure) -> String {
    guard let text = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
        throw PGDecodingFailure("is not valid UTF-8")
    }
    return text
}

extension Data: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Data {
        guard oid == .bytea else { throw .type(oid, Data.self) }
        return Data(bytes)
    }
}

extension Array: PGDecodable where Element == UInt8 {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> [UInt8] {
        guard oid == .bytea else { throw .type(oid, [UInt8].self) }
        return [UInt8](bytes)
    }
}

extension PGDate: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> PGDate {
        guard oid == .date else { throw .type(oid, PGDate.self) }
        let days = try readBigEndian(bytes, as: Int32.self)
        // ±infinity are Int32.max / Int32.min on the wire; no business day is either.
        guard days != .max, days != .min else { throw PGDecodingFailure("is an infinite date") }
        return PGDate(daysSince2000: days)
    }
}

extension PGTimestamp: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> PGTimestamp {
        guard oid == .timestamptz || oid == .timestamp else { throw .type(oid, PGTimestamp.self) }
        let micros = try readBigEndian(bytes, as: Int64.self)
        guard micros != .max, micros != .min else { throw PGDecodingFailure("is an infinite timestamp") }
        let (sum, overflow) = micros.addingReportingOverflow(PGTimestamp.postgresEpochOffset)
        guard !overflow else { throw PGDecodingFailure("is a timestamp out of range") }
        return PGTimestamp(microsecondsSince1970: sum)
    }
}

extension Date: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Date {
        let stamp = try PGTimestamp.pgDecode(bytes, oid: oid)
        return Date(timeIntervalSince1970: Double(stamp.microsecondsSince1970) / 1_000_000)
    }
}

extension PGJSON: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> PGJSON {
        switch oid {
        case .json: return PGJSON(try decodeUTF8(bytes))
        case .jsonb:
            // Binary jsonb is a version byte (1) followed by the document's text.
            guard let version = bytes.first, version == 1 else {
                throw PGDecodingFailure("is jsonb with an unknown binary version")
            }
            return PGJSON(try decodeUTF8(UnsafeRawBufferPointer(rebasing: bytes.dropFirst())))
        default: throw .type(oid, PGJSON.self)
        }
    }
}

extension PGNumeric: PGDecodable {
    /// Binary numeric: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000 digits.
    /// The value is Σ digit[i] · 10000^(weight − i), shown with dscale decimal places.
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> PGNumeric {
        guard oid == .numeric else { throw .type(oid, PGNumeric.self) }
        guard bytes.count >= 8 else { throw PGDecodingFailure("is a numeric shorter than its header") }
        func int16(at offset: Int) throws(PGDecodingFailure) -> Int16 {
            try readBigEndian(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 2]), as: Int16.self)
        }
        let ndigits = Int(try int16(at: 0))
        let weight = Int(try int16(at: 2))
        let sign = UInt16(bitPattern: try int16(at: 4))
        let dscale = Int(try int16(at: 6))
        guard ndigits >= 0, dscale >= 0, bytes.count == 8 + 2 * ndigits else {
            throw PGDecodingFailure("is a numeric whose length does not match its digit count")
        }
        switch sign {
        case 0xC000: return PGNumeric("NaN")
        case 0xD000: return PGNumeric("Infinity")
        case 0xF000: return PGNumeric("-Infinity")
        case 0x0000, 0x4000: break
        default: throw PGDecodingFailure("is a numeric with an unknown sign word")
        }
        var digits: [Int] = []
        digits.reserveCapacity(ndigits)
        for index in 0..<ndigits {
            let digit = Int(try int16(at: 8 + 2 * index))
            guard (0..<10_000).contains(digit) else { throw PGDecodingFailure("is a numeric with a bad digit") }
            digits.append(digit)
        }
        func group(_ index: Int) -> Int { index >= 0 && index < digits.count ? digits[index] : 0 }
        var text = ""
        if weight < 0 {
            text = "0"
        } else {
            text = String(group(0))
            if weight >= 1 {
                for index in 1...weight { text += pad(group(index), 4) }
            }
        }
        if dscale > 0 {
            var fraction = ""
            var index = weight + 1
            while fraction.count < dscale {
                fraction += pad(group(index), 4)
                index += 1
            }
            text += "." + fraction.prefix(dscale)
        }
        let isZero = digits.allSatisfy { $0 == 0 }
        return PGNumeric(sign == 0x4000 && !isZero ? "-" + text : text)
    }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, oid: PGOid) throws(PGDecodingFailure) -> Wrapped? {
        try Wrapped.pgDecode(bytes, oid: oid)
    }

    public static func pgDecodeNull() throws(PGDecodingFailure) -> Wrapped? { nil }
}
