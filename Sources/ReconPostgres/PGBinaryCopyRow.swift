/// What `BillLineEncoder` and other row encoders need of a COPY format: text (`PGCopyRow`, what
/// psql's `\copy` reads) or binary (`PGBinaryCopyRow`, what the server reads with least work).
public protocol PGCopyRowFormat {
    /// Everything written so far of the current row.
    var bytes: [UInt8] { get }
    init(capacity: Int)
    mutating func append(_ text: String?)
    mutating func append(_ value: Int64?)
    mutating func append(_ value: PGDate?)
    mutating func append(_ value: PGTimestamp?)
    /// Ends the row; `bytes` is then complete.
    mutating func end()
    /// Starts the next row, keeping the memory.
    mutating func reset()
    /// The `COPY … FROM STDIN` options for this format, e.g. `(FORMAT binary)`.
    static var copyOptions: String { get }
    /// Bytes before the first row and after the last.
    static var header: [UInt8] { get }
    static var trailer: [UInt8] { get }
}

extension PGCopyRow: PGCopyRowFormat {
    public static var copyOptions: String { "" }
    public static var header: [UInt8] { [] }
    public static var trailer: [UInt8] { [] }
}

/// One row in PostgreSQL's binary COPY format: a 16-bit field count, then each field as a 32-bit
/// length (−1 for NULL) and its bytes, integers big-endian, dates and timestamps counted from
/// 2000-01-01. The server stores these without parsing digits or timestamps, which is most of
/// the CPU a text COPY costs it; text goes as UTF-8, checked by the server as in text COPY.
public struct PGBinaryCopyRow: PGCopyRowFormat {
    public private(set) var bytes: [UInt8] = []
    private var fieldCount: Int16 = 0

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
        reset()
    }

    /// `PGCOPY\n\xff\r\n\0`, no flags, no header extension.
    public static let header: [UInt8] =
        Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    /// A field count of −1 ends the data.
    public static let trailer: [UInt8] = [0xFF, 0xFF]
    public static var copyOptions: String { "(FORMAT binary)" }

    public mutating func append(_ text: String?) {
        guard var text else { return appendNull() }
        text.withUTF8 { utf8 in
            appendBigEndian(Int32(truncatingIfNeeded: utf8.count))
            bytes.append(contentsOf: utf8)
        }
        fieldCount += 1
    }

    public mutating func append(_ value: Int64?) {
        guard let value else { return appendNull() }
        appendBigEndian(Int32(8))
        appendBigEndian(value)
        fieldCount += 1
    }

    public mutating func append(_ value: PGDate?) {
        guard let value else { return appendNull() }
        appendBigEndian(Int32(4))
        appendBigEndian(value.daysSince2000)
        fieldCount += 1
    }

    public mutating func append(_ value: PGTimestamp?) {
        guard let value else { return appendNull() }
        appendBigEndian(Int32(8))
        appendBigEndian(value.microsecondsSince1970 &- PGTimestamp.postgresEpochOffset)
        fieldCount += 1
    }

    /// Writes the field count into the row's first two bytes.
    public mutating func end() {
        bytes[0] = UInt8(truncatingIfNeeded: UInt16(bitPattern: fieldCount) >> 8)
        bytes[1] = UInt8(truncatingIfNeeded: UInt16(bitPattern: fieldCount))
    }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: [0, 0])  // the field count, filled in by `end()`
        fieldCount = 0
    }

    private mutating func appendNull() {
        appendBigEndian(Int32(-1))
        fieldCount += 1
    }

    private mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
