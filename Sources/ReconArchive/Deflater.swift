import CZlib

/// Streaming compression to raw deflate, zlib or gzip through zlib: for ZIP entries we write,
/// the mock channel server and tests. Not Sendable: one owner feeds it from one thread.
public final class Deflater {
    public typealias Format = Inflater.Format

    public let format: Format
    /// The file named in errors.
    public let label: String
    /// Uncompressed bytes taken so far.
    public private(set) var totalIn: Int64 = 0
    /// Compressed bytes handed out so far.
    public private(set) var totalOut: Int64 = 0

    /// Heap-allocated because zlib keeps a pointer back to it and checks that it never moves.
    private let stream: UnsafeMutablePointer<z_stream>
    private let buffer: UnsafeMutableRawBufferPointer
    private var initialized = false
    private var finished = false
    /// Set when a call failed half-way: the stream state is lost, so it is not used again.
    private var broken = false

    /// `level` is zlib's 0 (store) to 9 (smallest); 6 is zlib's default.
    public init(format: Format, level: Int32 = 6, label: String = "deflate") throws(ArchiveError) {
        self.format = format
        self.label = label
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        buffer = .allocate(byteCount: Zlib.chunkSize, alignment: 16)
        // Every stored property is set, so deinit frees both buffers if this throws.
        guard (0...9).contains(level) else {
            throw ArchiveError(file: label, check: format.checkName, reason: "compression level \(level) is not 0...9")
        }
        let code = recon_zlib_deflate_init2(stream, level, format.windowBits)
        guard code == Z_OK else {
            throw ArchiveError(
                file: label, check: format.checkName, reason: "deflateInit2 failed: \(Zlib.message(stream, code: code))"
            )
        }
        initialized = true
    }

    deinit {
        if initialized { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        buffer.deallocate()
    }

    /// Compresses `input`, calling `output` with compressed pieces of at most 64 KiB (zlib may
    /// hold bytes back until later pushes or `finish`).
    public func push(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { throw failure("pushed after finish") }
        guard let base = input.baseAddress, !input.isEmpty else { return }
        // avail_in is 32 bits wide, so very large inputs go in slices.
        var offset = 0
        while offset < input.count {
            let count = min(input.count - offset, 1 << 30)
            try run(base + offset, count: count, flush: Z_NO_FLUSH, output: output)
            offset += count
        }
        totalIn += Int64(input.count)
    }

    /// Ends the stream: the last compressed bytes and the trailer (Adler-32, or gzip CRC-32 and length).
    public func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { return }
        try run(nil, count: 0, flush: Z_FINISH, output: output)
        finished = true
    }

    /// Calls deflate until the slice is consumed (or, with Z_FINISH, until the stream ends).
    private func run(
        _ start: UnsafeRawPointer?, count: Int, flush: Int32, output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard !broken else { throw failure("used again after an earlier failure") }
        broken = true
        // zlib's next_in is not const but deflate never writes through it.
        stream.pointee.next_in = start.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        stream.pointee.avail_in = uInt(count)
        while true {
            stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(buffer.count)
            let code = CZlib.deflate(stream, flush)
            guard code == Z_OK || code == Z_STREAM_END || code == Z_BUF_ERROR else {
                throw failure(Zlib.message(stream, code: code))
            }
            let produced = buffer.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                totalOut += Int64(produced)
                try output(UnsafeRawBufferPointer(start: buffer.baseAddress, count: produced))
            }
            if flush == Z_FINISH {
                if code == Z_STREAM_END { break }
                // A fresh 64 KiB of room and still no progress: give up rather than spin.
                if code == Z_BUF_ERROR && produced == 0 { throw failure("deflate made no progress while finishing") }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                break
            }
        }
        stream.pointee.next_in = nil
        broken = false
    }

    private func failure(_ reason: String) -> ArchiveError {
        ArchiveError(file: label, check: format.checkName, reason: reason)
    }
}

extension Deflater {
    /// Compresses a whole buffer held in memory.
    public static func deflate(_ data: [UInt8], format: Format, level: Int32 = 6) throws(ArchiveError) -> [UInt8] {
        let deflater = try Deflater(format: format, level: level)
        var result: [UInt8] = []
        do {
            try data.withUnsafeBytes { raw in try deflater.push(raw) { result.append(contentsOf: $0) } }
            try deflater.finish { result.append(contentsOf: $0) }
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw ArchiveError(file: deflater.label, check: format.checkName, reason: "\(error)")
        }
        return result
    }
}
