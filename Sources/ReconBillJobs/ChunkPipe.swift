import Foundation

/// A bounded hand-off of byte chunks from one thread to another, so a bill is parsed on one
/// thread while the connection's thread sends the previous chunks to COPY: parsing and the
/// server's load overlap instead of taking turns. At most `capacity` chunks wait, so memory stays
/// bounded however large the bill.
final class ChunkPipe: @unchecked Sendable {
    // @unchecked: every field is touched only under `condition`.
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int

    struct Cancelled: Error {}

    init(capacity: Int = 8) {
        self.capacity = capacity
    }

    /// Blocks while the pipe is full; throws once the reader gave up.
    func put(_ chunk: [UInt8]) throws {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity, !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        chunks.append(chunk)
        condition.broadcast()
    }

    /// No more chunks will come.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The reader stops early (the COPY failed): a blocked or later `put` throws.
    func cancel() {
        condition.lock()
        cancelled = true
        chunks = []
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk, blocking until one arrives; nil once finished and drained.
    func take() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty, !finished, !cancelled { condition.wait() }
        guard !chunks.isEmpty else { return nil }
        let chunk = chunks.removeFirst()
        condition.broadcast()
        return chunk
    }
}
