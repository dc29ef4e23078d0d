import Foundation

/// Easy handles kept between requests, so the connections they hold stay open (HTTP keep-alive):
/// a client that talks to one server over and over (a worker to its coordinator) pays for a TCP
/// connect once instead of once per request. Each request takes a handle of its own, so requests
/// at once never share one; a handle goes back reset, with its connection cache, after the request.
///
/// A pool per server keeps each handle's connections to that server.
public final class KeptAliveHandles: @unchecked Sendable {
    // @unchecked: `idle` is read and written only while `lock` is held, and a handle taken out of
    // it belongs to the one transfer that took it until `giveBack`, which runs on that transfer's
    // thread; so no handle is ever used by two threads at once.
    private let lock = NSLock()
    private var idle: [CurlEasyHandle] = []
    private let maxIdle: Int

    /// Keeps at most `maxIdle` handles between requests; more at once are closed after use.
    public init(maxIdle: Int = 8) {
        self.maxIdle = max(1, maxIdle)
    }

    /// An idle handle, or a new one when none is idle.
    func take() throws -> CurlEasyHandle {
        lock.lock()
        let handle = idle.popLast()
        lock.unlock()
        return try handle ?? CurlEasyHandle()
    }

    /// Resets `handle` and keeps it for the next request (or closes it when enough are kept).
    func giveBack(_ handle: CurlEasyHandle) {
        do {
            try handle.reset()
        } catch {
            return
        }
        lock.lock()
        let kept = idle.count < maxIdle
        if kept { idle.append(handle) }
        lock.unlock()
        if !kept { handle.close() }
    }

    /// How many handles wait for a request now.
    public var idleCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return idle.count
    }

    deinit {
        for handle in idle { handle.close() }
    }
}
