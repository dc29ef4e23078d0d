import Foundation
import Glibc
import ServiceLifecycle

/// sd_notify without libsystemd: one datagram to `$NOTIFY_SOCKET`, when systemd set one.
enum SystemdNotify {
    static func send(_ message: String) {
        guard var path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        // A leading '@' names an abstract socket: a NUL byte in its place.
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        let socketFD = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { return }
        defer { close(socketFD) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count + (abstract ? 1 : 0) < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let offset = abstract ? 1 : 0
            for (index, byte) in bytes.enumerated() { raw[index + offset] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 0))
        _ = message.withCString { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(socketFD, text, strlen(text), 0, socketAddress, length)
                }
            }
        }
    }
}

extension SystemdNotify {
    /// With `WatchdogSec=` set, systemd expects WATCHDOG=1 within every interval or restarts us.
    /// Pinged at half the interval from the cooperative pool: if the process's tasks stall, the
    /// pings stop and systemd notices.
    static func startWatchdog() -> Task<Void, Never>? {
        let environment = ProcessInfo.processInfo.environment
        guard let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 else { return nil }
        // Set by systemd for the main process; a child that inherited the variables is not watched.
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return Task {
            while !Task.isCancelled {
                send("WATCHDOG=1")
                try? await Task.sleep(for: .microseconds(micros / 2))
            }
        }
    }
}

/// Sends STOPPING=1 as soon as the service group begins its graceful shutdown (SIGTERM, SIGINT),
/// so that `systemctl status` shows the daemon stopping while it drains. Listed last in its
/// group, it is the first service told of the shutdown.
struct StoppingNotice: Service {
    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // Cancelled: the group is ending without a graceful shutdown.
        }
        SystemdNotify.send("STOPPING=1")
    }
}
