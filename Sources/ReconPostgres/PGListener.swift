import Foundation
import Synchronization

/// A connection of its own that LISTENs on some channels and turns NOTIFYs into an async stream.
///
/// It runs on a thread of its own (waiting on the socket blocks), and reconnects with backoff when
/// the server goes away. After a reconnect it emits `.listening(reconnected: true)`: notifications
/// sent while it was down are lost, so a consumer should look at the table it was told about.
public final class PGListener: Sendable {
    public enum Event: Sendable, Equatable {
        /// LISTEN is in effect; `reconnected` is true after the connection had been lost.
        case listening(reconnected: Bool)
        /// The consumer fell behind and the oldest buffered notifications were dropped.
        case overflowed
        case notification(PGNotification)
    }

    public let events: AsyncStream<Event>
    private let stopped = StopFlag()

    public init(connectionString: String, channels: [String]) {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        events = stream
        let thread = Thread { [stopped] in
            PGListener.run(connectionString, channels, continuation, stopped)
        }
        thread.name = "recon.pg.listen"
        thread.start()
    }

    /// Stops listening; the stream finishes within a fraction of a second.
    public func stop() { stopped.value.store(true, ordering: .relaxed) }

    deinit { stop() }

    private static func run(
        _ connectionString: String, _ channels: [String], _ continuation: AsyncStream<Event>.Continuation,
        _ stopped: StopFlag
    ) {
        var connection: PGConnection?
        var hadConnection = false
        var backoffMilliseconds: UInt32 = 100
        while !stopped.value.load(ordering: .relaxed) {
            do {
                if connection == nil {
                    let fresh = try PGConnection(connectionString: connectionString)
                    for channel in channels { try fresh.listen(channel) }
                    connection = fresh
                    continuation.yield(.listening(reconnected: hadConnection))
                    hadConnection = true
                    backoffMilliseconds = 100
                }
                // A short wait so that `stop()` is noticed promptly.
                for note in try connection?.waitForNotifications(timeoutMilliseconds: 200) ?? [] {
                    if case .dropped = continuation.yield(.notification(note)) {
                        continuation.yield(.overflowed)
                    }
                }
            } catch {
                connection?.close()
                connection = nil
                // Sleep in slices so that `stop()` is noticed within 100 ms even while backing off.
                var slept: UInt32 = 0
                while slept < backoffMilliseconds, !stopped.value.load(ordering: .relaxed) {
                    usleep(100_000)
                    slept += 100
                }
                backoffMilliseconds = min(backoffMilliseconds * 2, 5000)
            }
        }
        connection?.close()
        continuation.finish()
    }
}

/// A flag shared between `stop()` and the listening thread.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
