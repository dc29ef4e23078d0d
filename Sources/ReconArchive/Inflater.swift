import CZlib

/// Streaming decompression of raw deflate, zlib or gzip data through zlib, refusing to produce
/// more than `maxOutputBytes` (a zip bomb stops at the cap, it is never written out past it).
///
/// zlib checks the trailers itself: the Adler-32 of a zlib stream, and the CRC-32 and length
/// (ISIZE) of a gzip stream. Bytes after the end of the stream are refused, so a gzip file of
/// several concatenated members is refused too.
///
/// Not Sendable: one owner feeds it from one thread.
public final class Inflater {
    public enum Format: Sendable, Equatable {
        case raw, zlib, gzip
    }

    public let format: Format
    public let maxOutputBytes: Int64
    /// The file named in errors: a path or the caller's label.
    public let label: String
    /// The archive entry named in errors, when the stream is one.
    public let entry: String?
    /// Decompressed bytes handed out so far.
    public private(set) var totalOut: Int64 = 0
    /// Compressed bytes consumed so far.
    public private(set) var totalIn: Int64 = 0
    /// True once zlib has seen the stream's end marker and checked its trailer.
    public private(set) var reachedEnd = false

    /// Heap-allocated because zlib keeps a pointer back to it and checks that it never moves.
    private let stream: UnsafeMutablePointer<z_stream>
    private let buffer: UnsafeMutableRawBufferPointer
    private var initialized = false
    /// Set when a push failed half-way: the stream state is lost, so it is not used again.
    private var broken = false

    public init(format: Format, maxOutputBytes: Int64, label: String, entry: String? = nil) throws(ArchiveError) {
        self.format = format
        self.maxOutputBytes = maxOutputBytes
        self.label = label
        self.entry = entry
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        buffer = .allocate(byteCount: Zlib.chunkSize, alignment: 16)
        // Every stored property is set, so deinit frees both buffers if this throws.
        let code = recon_zlib_inflate_init2(stream, format.windowBits)
        guard code == Z_OK else {
            throw ArchiveError(
                file: label, entry: entry, check: format.checkName,
                reason: "inflateInit2 failed: \(Zlib.message(stream, code: code))")
        }
        initialized = true
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        buffer.deallocate()
    }

    /// Decompresses `input`, calling `output` with pieces of at most 64 KiB. Throws ArchiveError
    /// "size cap" before a piece would take the total past `maxOutputBytes`, and ArchiveError
    /// with zlib's message for corrupt data; errors thrown by `output` pass through.
    public func push(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !broken else { throw failure(format.checkName, "used again after an earlier failure") }
        guard let base = input.baseAddress, !input.isEmpty else { return }
        guard !reachedEnd else { throw trailingBytes(input.count) }
        broken = true
        // avail_in is 32 bits wide, so very large inputs go in slices.
        var offset = 0
        while offset < input.count {
            guard !reachedEnd else { throw trailingBytes(input.count - offset) }
            let count = min(input.count - offset, 1 << 30)
            let consumed = try inflateSlice(base + offset, count: count, output: output)
            totalIn += Int64(consumed)
            offset += consumed
        }
        broken = false
    }

    /// Refuses a stream that has not reached its end marker (a truncated download or file).
    public func finish() throws(ArchiveError) {
        guard !broken else { throw failure(format.checkName, "used again after an earlier failure") }
        guard reachedEnd else {
            throw failure(
                format.checkName,
                "truncated: the \(format.checkName) stream stops before its end "
                    + "(\(totalIn) bytes read, \(totalOut) bytes out)")
        }
    }

    /// Runs inflate over one slice until it is consumed or the stream ends; returns bytes consumed.
    private func inflateSlice(
        _ start: UnsafeRawPointer, count: Int, output: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        // zlib's next_in is not const but inflate never writes through it.
        stream.pointee.next_in = UnsafeMutablePointer(mutating: start.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(count)
        while true {
            stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(buffer.count)
            let code = CZlib.inflate(stream, Z_NO_FLUSH)
            guard code == Z_OK || code == Z_STREAM_END || code == Z_BUF_ERROR else {
                throw failure(format.checkName, Zlib.message(stream, code: code))
            }
            let produced = buffer.count - Int(stream.pointee.avail_out)
            if produced > 0 { try emit(produced, output: output) }
            if code == Z_STREAM_END {
                reachedEnd = true
                break
            }
            // Z_BUF_ERROR: no progress possible until more input comes.
            if code == Z_BUF_ERROR { break }
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { break }
        }
        let left = Int(stream.pointee.avail_in)
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        if reachedEnd && left > 0 { throw trailingBytes(left) }
        return count - left
    }

    private func emit(_ produced: Int, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        let total = totalOut + Int64(produced)
        guard total <= maxOutputBytes else {
            throw failure("size cap", "decompresses to more than the cap of \(maxOutputBytes) bytes")
        }
        totalOut = total
        try output(UnsafeRawBufferPointer(start: buffer.baseAddress, count: produced))
    }

    private func trailingBytes(_ count: Int) -> ArchiveError {
        failure(format.checkName, "\(count) trailing bytes after the end of the \(format.checkName) stream")
    }

    private func failure(_ check: String, _ reason: String) -> ArchiveError {
        ArchiveError(file: label, entry: entry, check: check, reason: reason)
    }
}
