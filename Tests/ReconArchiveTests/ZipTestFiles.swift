/// Archives for the ZIP tests and byte surgery on them.
enum ZipTestFiles {
    /// 业务 in GBK: Alipay-style entry names are GBK bytes without the UTF-8 flag.
    static let gbkName: [UInt8] = [0xD2, 0xB5, 0xCE, 0xF1] + Array(".csv".utf8)

    /// Offset of the `occurrence`-th PK\1\2 (central directory record) in `bytes`.
    static func centralRecordOffset(_ bytes: [UInt8], occurrence: Int = 0) -> Int? {
        offsets(of: [0x50, 0x4B, 0x01, 0x02], in: bytes).dropFirst(occurrence).first
    }

    static func endRecordOffset(_ bytes: [UInt8]) -> Int? {
        offsets(of: [0x50, 0x4B, 0x05, 0x06], in: bytes).last
    }

    static func offsets(of pattern: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard bytes.count >= pattern.count else { return [] }
        return (0...(bytes.count - pattern.count)).filter { bytes[$0..<$0 + pattern.count].elementsEqual(pattern) }
    }

    static func put16(_ value: UInt16, into bytes: inout [UInt8], at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: value)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }

    static func put32(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
        put16(UInt16(truncatingIfNeeded: value), into: &bytes, at: offset)
        put16(UInt16(truncatingIfNeeded: value >> 16), into: &bytes, at: offset + 2)
    }
}
