/// One file in a ZIP archive, as its central directory describes it.
public struct ZipEntry: Sendable, Equatable {
    /// The name exactly as stored. Alipay writes GBK names without the UTF-8 flag, so callers
    /// decode these bytes themselves; `name` is only for messages.
    public var nameBytes: [UInt8]
    /// The name as UTF-8 when the bytes are valid UTF-8, else as the archive's `legacyNames`
    /// decodes it (业务明细 from GBK), else a lossless escaped form (`\xD2`).
    public var name: String
    /// 0 stored, 8 deflate (the only two accepted).
    public var method: UInt16
    /// General-purpose flags (bit 3: sizes in a data descriptor; bit 11: UTF-8 name).
    public var flags: UInt16
    public var crc32: UInt32
    public var compressedSize: Int64
    public var uncompressedSize: Int64
    public var localHeaderOffset: Int64
    /// The name ends with `/` (or `\`): a folder, which has no contents.
    public var isDirectory: Bool

    public init(
        nameBytes: [UInt8], method: UInt16, flags: UInt16, crc32: UInt32, compressedSize: Int64,
        uncompressedSize: Int64, localHeaderOffset: Int64, legacyNames: ZipArchive.LegacyNames? = nil
    ) {
        self.nameBytes = nameBytes
        self.name = ZipEntryName.display(nameBytes, legacyNames: legacyNames)
        self.method = method
        self.flags = flags
        self.crc32 = crc32
        self.compressedSize = compressedSize
        self.uncompressedSize = uncompressedSize
        self.localHeaderOffset = localHeaderOffset
        self.isDirectory = nameBytes.last == UInt8(ascii: "/") || nameBytes.last == UInt8(ascii: "\\")
    }
}
