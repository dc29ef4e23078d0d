/// The ZIP record layouts we read and write (PKWARE APPNOTE 6.3, 32-bit records only).
enum ZipRecords {
    static let localHeaderSignature: UInt32 = 0x0403_4B50  // PK\3\4
    static let centralHeaderSignature: UInt32 = 0x0201_4B50  // PK\1\2
    static let endRecordSignature: UInt32 = 0x0605_4B50  // PK\5\6
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50  // PK\6\7

    static let localHeaderLength = 30
    static let centralHeaderLength = 46
    static let endRecordLength = 22
    static let zip64LocatorLength = 20
    /// The end record plus the longest comment it may carry.
    static let endRecordSearchLength = endRecordLength + 0xFFFF

    /// General-purpose flag bits.
    static let flagEncrypted: UInt16 = 1 << 0
    static let flagDataDescriptor: UInt16 = 1 << 3
    static let flagStrongEncryption: UInt16 = 1 << 6
    static let flagUTF8: UInt16 = 1 << 11

    static let methodStored: UInt16 = 0
    static let methodDeflate: UInt16 = 8
}

/// Fixed-width little-endian fields of one record inside a byte array. The length is checked
/// when the view is made, so reading a field at a fixed offset inside it cannot go out of bounds.
struct ZipFields {
    private let bytes: [UInt8]
    private let start: Int
    let length: Int

    /// Nil when `bytes` holds fewer than `length` bytes from `start`.
    init?(_ bytes: [UInt8], at start: Int, length: Int) {
        guard start >= 0, length >= 0, start <= bytes.count, length <= bytes.count - start else { return nil }
        self.bytes = bytes
        self.start = start
        self.length = length
    }

    func u16(_ offset: Int) -> UInt16 {
        precondition(offset >= 0 && offset + 2 <= length, "field outside the record")
        return UInt16(bytes[start + offset]) | UInt16(bytes[start + offset + 1]) << 8
    }

    func u32(_ offset: Int) -> UInt32 {
        UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16
    }
}

/// Builds records field by field, little-endian.
struct ZipRecordBuilder {
    private(set) var bytes: [UInt8] = []

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(truncatingIfNeeded: value))
        u16(UInt16(truncatingIfNeeded: value >> 16))
    }

    mutating func append(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }
}
