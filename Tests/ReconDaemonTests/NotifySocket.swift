import Foundation
import Glibc
import ReconTestSupport

/// What systemd listens on for sd_notify: an AF_UNIX datagram socket at a path, handed to the
/// daemon as `$NOTIFY_SOCKET`. Each datagram is one notification ("READY=1\nSTATUS=…").
final class NotifySocket: @unchecked Sendable {
    // @unchecked: the descriptor is set once; only the test that owns the socket reads from it.
    let path: String
    private let descriptor: Int32

    init() throws {
        // sun_path holds 108 bytes: a short name under /tmp, not the (possibly long) temp folder.
        path = "/tmp/recon-notify-\(UUID().uuidString.prefix(8)).sock"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw DaemonError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            throw DaemonError("bind \(path): errno \(errno)")
        }
        // Non-blocking: the test polls, so no thread of the cooperative pool waits in recv.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// The next datagram and when it arrived, or an error after `timeout`.
    func receive(timeout: Duration) async throws -> (text: String, at: ContinuousClock.Instant) {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return (String(decoding: buffer[..<count], as: UTF8.self), ContinuousClock.now) }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw DaemonError("recv: errno \(errno)")
            }
            guard ContinuousClock.now < deadline else { throw DaemonError("no notification within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The datagrams queued now, without waiting for more.
    func pending() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var texts: [String] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { return texts }
            texts.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
    }

    /// Datagrams until one has the line `line`; returns them all, that one last.
    func receive(until line: String, timeout: Duration) async throws -> [(text: String, at: ContinuousClock.Instant)] {
        let deadline = ContinuousClock.now + timeout
        var received: [(text: String, at: ContinuousClock.Instant)] = []
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw DaemonError("no \(line) within \(timeout); got \(received.map(\.text))")
            }
            let message = try await receive(timeout: left)
            received.append(message)
            if message.text.split(separator: "\n").contains(Substring(line)) { return received }
        }
    }
}

/// A plain TCP connect to 127.0.0.1:`port`, once, no retry: true when something accepts it.
func portAccepts(_ port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
