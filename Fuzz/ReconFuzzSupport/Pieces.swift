/// How a streaming pass cuts the input: consecutive pieces whose sizes cycle through a fixed list,
/// from a start that depends on the length, so that as the fuzzer changes lengths every boundary
/// (inside a CRLF, a GBK character, a quoted field, a BOM) gets its turn. Production feeds 64 KiB
/// pieces of a ZIP entry or inflater output; what a parser says must not depend on where they fall.
public enum Pieces {
    static let sizes = [1, 2, 3, 5, 7, 13, 64, 509, 4096]

    public static func forEach<Failure: Error>(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        var start = 0
        var turn = bytes.count % sizes.count
        while start < bytes.count {
            let end = min(start + sizes[turn % sizes.count], bytes.count)
            try body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
            turn += 1
        }
    }
}
