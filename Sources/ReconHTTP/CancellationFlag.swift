import Foundation

/// Set by the awaiting task's cancellation handler, read by curl's progress callback on the
/// blocking thread: the only way to stop a `curl_easy_perform` from outside.
final class CancellationFlag: @unchecked Sendable {
    // @unchecked: `cancelled` is read and written only while `lock` is held.
    private let lock = NSLock()
    private var cancelled = false

    func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}
