#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file being written, the one owner of its descriptor. Appends go through a 64 KiB buffer;
/// `patch` writes at an earlier offset (after flushing), for headers completed afterwards.
///
/// Not Sendable: one writer on one thread.
final class WritableFile {
    let path: String
    /// Bytes appended so far, buffered or not: the offset the next append lands at.
    private(set) var offset: Int64 = 0
    private var descriptor: Int32
    private var pending: [UInt8] = []

    /// Creates or empties `path`.
    init(path: String) throws(ArchiveError) {
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw ArchiveError(file: path, check: "file", reason: "the path is empty or contains a NUL byte")
        }
        self.path = path
        let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard opened >= 0 else { throw ArchiveError.system(path, "cannot open for writing", errno) }
        descriptor = opened
        pending.reserveCapacity(Zlib.chunkSize)
    }

    deinit {
        if descriptor >= 0 { _ = closeDescriptor(descriptor) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        offset += Int64(bytes.count)
        if pending.count + bytes.count > Zlib.chunkSize { try flush() }
        if bytes.count >= Zlib.chunkSize {
            try writeAll(bytes, at: nil)
        } else {
            pending.append(contentsOf: bytes)
        }
    }

    func append(_ bytes: [UInt8]) throws(ArchiveError) {
        try bytes.withUnsafeBufferPointer { (raw) throws(ArchiveError) in try append(UnsafeRawBufferPointer(raw)) }
    }

    /// Overwrites bytes already appended, at `position`.
    func patch(_ bytes: [UInt8], at position: Int64) throws(ArchiveError) {
        try flush()
        try bytes.withUnsafeBufferPointer { (raw) throws(ArchiveError) in
            try writeAll(UnsafeRawBufferPointer(raw), at: position)
        }
    }

    func flush() throws(ArchiveError) {
        guard !pending.isEmpty else { return }
        let bytes = pending
        pending.removeAll(keepingCapacity: true)
        try bytes.withUnsafeBufferPointer { (raw) throws(ArchiveError) in
            try writeAll(UnsafeRawBufferPointer(raw), at: nil)
        }
    }

    /// Flushes and closes; a failed close can mean lost data, so it is reported. Safe to call twice.
    func close() throws(ArchiveError) {
        guard descriptor >= 0 else { return }
        var failure: ArchiveError?
        do { try flush() } catch { failure = error }
        let closed = closeDescriptor(descriptor)
        let code = errno
        descriptor = -1
        if let failure { throw failure }
        guard closed == 0 else { throw ArchiveError.system(path, "cannot close", code) }
    }

    /// Writes everything, at the file position (nil) or at `position` with pwrite.
    private func writeAll(_ bytes: UnsafeRawBufferPointer, at position: Int64?) throws(ArchiveError) {
        guard descriptor >= 0 else { throw ArchiveError(file: path, check: "file", reason: "written after close") }
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let written =
                if let position {
                    pwrite(descriptor, base + done, bytes.count - done, off_t(position + Int64(done)))
                } else {
                    write(descriptor, base + done, bytes.count - done)
                }
            if written < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.system(path, "cannot write", errno)
            }
            done += written
        }
    }
}

/// The C close(2), out of reach by name inside WritableFile, whose own close() shadows it.
private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
