#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file opened for reading at offsets (pread), the one owner of its descriptor.
///
/// Sendable: every stored property is a constant and pread does not move a shared file position,
/// so copies of a ZipArchive may read entries from several threads at once.
final class ReadableFile: Sendable {
    let path: String
    let size: Int64
    private let descriptor: Int32

    init(path: String) throws(ArchiveError) {
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw ArchiveError(file: path, check: "file", reason: "the path is empty or contains a NUL byte")
        }
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { throw ArchiveError.system(path, "cannot open for reading", errno) }
        var status = stat()
        guard fstat(opened, &status) == 0 else {
            let code = errno
            close(opened)
            throw ArchiveError.system(path, "cannot stat", code)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(opened)
            throw ArchiveError(file: path, check: "file", reason: "not a regular file")
        }
        self.path = path
        descriptor = opened
        size = Int64(status.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Fills `buffer` from `offset`, fewer bytes only at the end of the file; returns the count.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, base + done, buffer.count - done, off_t(offset + Int64(done)))
            if got < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.system(path, "cannot read at offset \(offset + Int64(done))", errno)
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Exactly `count` bytes from `offset`, or nil when the file ends first.
    func read(at offset: Int64, count: Int) throws(ArchiveError) -> [UInt8]? {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBufferPointer { (buffer) throws(ArchiveError) in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer))
        }
        return got == count ? bytes : nil
    }
}

extension ArchiveError {
    /// A failed system call on `path`, with errno's text.
    static func system(_ path: String, _ what: String, _ code: Int32) -> ArchiveError {
        ArchiveError(file: path, check: "file", reason: "\(what): \(String(cString: strerror(code)))")
    }
}
