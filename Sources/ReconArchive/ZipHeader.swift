/// The fields an entry's local header and central directory record share, and their bytes.
struct ZipHeader {
    var nameBytes: [UInt8]
    var method: ZipWriter.Method
    var utf8Name: Bool
    var localOffset: Int64
    var crc32: UInt32 = 0
    var compressedSize: UInt32 = 0
    var uncompressedSize: UInt32 = 0

    /// 1980-01-01 00:00 in MS-DOS form (date: years since 1980, month, day; time: zero).
    private static let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
    private static let dosTime: UInt16 = 0

    /// 2.0 for deflate, 1.0 for stored (APPNOTE 4.4.3); also our "version made by", MS-DOS host.
    private var versionNeeded: UInt16 { method == .deflate ? 20 : 10 }
    private var flags: UInt16 { utf8Name ? ZipRecords.flagUTF8 : 0 }

    /// Written before the data, with zero CRC and sizes until `sizeFields` patches them in.
    func localRecord() -> [UInt8] {
        var record = ZipRecordBuilder()
        record.u32(ZipRecords.localHeaderSignature)
        record.u16(versionNeeded)
        record.u16(flags)
        record.u16(method.rawValue)
        record.u16(Self.dosTime)
        record.u16(Self.dosDate)
        record.append(sizeFields())
        record.u16(UInt16(nameBytes.count))
        record.u16(0)  // extra field length
        record.append(nameBytes)
        return record.bytes
    }

    /// CRC-32, compressed and uncompressed size: 12 bytes at offset 14 of the local header.
    func sizeFields() -> [UInt8] {
        var fields = ZipRecordBuilder()
        fields.u32(crc32)
        fields.u32(compressedSize)
        fields.u32(uncompressedSize)
        return fields.bytes
    }

    func centralRecord() -> [UInt8] {
        var record = ZipRecordBuilder()
        record.u32(ZipRecords.centralHeaderSignature)
        record.u16(versionNeeded)  // version made by: MS-DOS host, same version
        record.u16(versionNeeded)
        record.u16(flags)
        record.u16(method.rawValue)
        record.u16(Self.dosTime)
        record.u16(Self.dosDate)
        record.append(sizeFields())
        record.u16(UInt16(nameBytes.count))
        record.u16(0)  // extra field length
        record.u16(0)  // comment length
        record.u16(0)  // disk number start
        record.u16(0)  // internal attributes
        record.u32(nameBytes.last == UInt8(ascii: "/") ? 0x10 : 0)  // MS-DOS directory attribute
        record.u32(UInt32(localOffset))
        record.append(nameBytes)
        return record.bytes
    }
}
