/// GBK's byte structure, checked without converting: ASCII below 0x80; 0x80 alone (glibc's
/// GBK reads it as €); otherwise a lead byte 0x81–0xFE and a trail byte 0x40–0xFE other than
/// 0x7F. For fields whose text Recon never uses, this is the "decodes without replacement
/// characters" check of CHANNELS.md §6 at a fraction of an iconv call. (iconv can still refuse
/// an unassigned pair of this shape; those fields would then decode to text nobody reads.)
enum GBKShape {
    /// The first break of the structure, worded as the iconv decoder words it; nil when well formed.
    static func firstError<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> TextCodingError?
    where Bytes.Index == Int {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte <= 0x80 {
                index += 1
                continue
            }
            let offset = index - bytes.startIndex
            guard byte != 0xFF else { return .invalid(.gbk, at: offset) }
            guard index + 1 < bytes.endIndex else { return .invalid(.gbk, at: offset, incomplete: true) }
            let trail = bytes[index + 1]
            guard (0x40...0xFE).contains(trail), trail != 0x7F else { return .invalid(.gbk, at: offset) }
            index += 2
        }
        return nil
    }
}
