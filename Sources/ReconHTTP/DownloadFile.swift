#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file a download is written to: the one owner of its descriptor.
///
/// The caller names it and it is only ever a partial file: the caller checks the result (and
/// whatever digest it expects) and then renames it; this layer never writes a final name.
final class DownloadFile {
    let path: String
    private var descriptor: Int32
    /// Bytes in the file now; writes go to this offset.
    private(set) var size: Int64

    /// Opens (creating) `path`. With `keepContents` the existing bytes stay and writes follow
    /// them; otherwise the file is emptied.
    init(path: String, keepContents: Bool) throws {
        self.path = path
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw HTTPClientError.cannotOpenFile(path: path, errno: EINVAL)
        }
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        if !keepContents { flags |= O_TRUNC }
        let opened = open(path, flags, 0o644)
        guard opened >= 0 else { throw HTTPClientError.cannotOpenFile(path: path, errno: errno) }
        descriptor = opened
        size = 0
        // From here deinit closes the descriptor if a step below throws.
        let end = lseek(opened, 0, SEEK_END)
        guard end >= 0 else { throw HTTPClientError.cannotOpenFile(path: path, errno: errno) }
        size = Int64(end)
    }

    /// Appends `bytes`; returns errno on failure.
    func write(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard descriptor >= 0 else { return EBADF }
        guard let base = bytes.baseAddress else { return nil }
        var done = 0
        while done < bytes.count {
            let written = systemWrite(descriptor, base + done, bytes.count - done)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += written
            size += Int64(written)
        }
        return nil
    }

    /// Empties the file and writes from byte 0 again; returns errno on failure.
    func truncateToZero() -> Int32? {
        guard descriptor >= 0 else { return EBADF }
        if ftruncate(descriptor, 0) != 0 { return errno }
        if lseek(descriptor, 0, SEEK_SET) < 0 { return errno }
        size = 0
        return nil
    }

    /// Flushes the bytes to disk, so a rename after a completed download keeps them.
    func sync() -> Int32? {
        guard descriptor >= 0 else { return EBADF }
        return fsync(descriptor) == 0 ? nil : errno
    }

    /// Closes the descriptor; later calls do nothing. Returns errno if close reported one.
    @discardableResult
    func close() -> Int32? {
        guard descriptor >= 0 else { return nil }
        let result = systemClose(descriptor)
        descriptor = -1
        return result == 0 ? nil : errno
    }

    deinit { close() }
}

// The methods above shadow the C functions' names.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}
