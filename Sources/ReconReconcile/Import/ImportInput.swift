import Foundation

/// Where an import file's bytes come from: a path, or standard input for `--file -` (so a
/// `psql -c "\copy (…) TO STDOUT CSV HEADER"` pipes straight in). Read in chunks on the caller's
/// thread, which is one of ours (a pool connection's), never the cooperative pool.
public struct ImportInput: Sendable {
    /// How messages name the file: its path, or `<stdin>`.
    public let label: String
    private let path: String?

    public init(path: String) {
        if path == "-" {
            self.label = "<stdin>"
            self.path = nil
        } else {
            self.label = path
            self.path = path
        }
    }

    /// Calls `body` with each chunk of the file, 256 KiB at a time.
    func read(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let descriptor: Int32
        if let path {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw ImportError(label: label, problems: ["cannot open it: \(String(cString: strerror(errno)))"])
            }
        } else {
            descriptor = STDIN_FILENO
        }
        defer { if path != nil { close(descriptor) } }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = Foundation.read(descriptor, buffer.baseAddress, buffer.count)
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw ImportError(label: label, problems: ["cannot read it: \(String(cString: strerror(errno)))"])
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}

/// An import refused whole: nothing of the file was imported. Lists the first problems (each
/// with its line and column) and how many more there were.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public var label: String
    public var problems: [String]
    public var more: Int

    public init(label: String, problems: [String], more: Int = 0) {
        self.label = label
        self.problems = problems
        self.more = more
    }

    public var description: String {
        var lines = ["\(label): nothing imported"]
        lines += problems.map { "  \(label): \($0)" }
        if more > 0 { lines.append("  and \(more) more") }
        return lines.joined(separator: "\n")
    }
}

/// What an import did.
public struct ImportSummary: Sendable, Equatable, CustomStringConvertible {
    public var rows: Int64
    public var inserted: Int64
    public var updated: Int64

    public init(rows: Int64, inserted: Int64, updated: Int64) {
        self.rows = rows
        self.inserted = inserted
        self.updated = updated
    }

    public var unchanged: Int64 { rows - inserted - updated }

    public var description: String {
        "\(rows) rows: \(inserted) new, \(updated) changed, \(unchanged) unchanged"
    }
}
