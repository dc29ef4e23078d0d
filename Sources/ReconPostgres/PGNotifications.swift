import CLibPQ
import Glibc

/// One NOTIFY received on a LISTENing connection.
public struct PGNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The backend process that sent it.
    public var senderPID: Int32
}

extension PGConnection {
    /// `LISTEN channel`. The name is quoted, so any text is a valid channel name.
    public func listen(_ channel: String) throws(PGError) {
        try execute(script: "LISTEN \(quoteIdentifier(channel))", name: "LISTEN \(channel)")
    }

    public func unlisten(_ channel: String) throws(PGError) {
        try execute(script: "UNLISTEN \(quoteIdentifier(channel))", name: "UNLISTEN \(channel)")
    }

    /// `pg_notify(channel, payload)`; delivered when the surrounding transaction commits.
    public func notify(_ channel: String, payload: String = "") throws(PGError) {
        try query("SELECT pg_notify($1, $2)", [channel, payload], name: "NOTIFY \(channel)")
    }

    /// Returns the notifications that have arrived, waiting up to `timeoutMilliseconds` for the
    /// first one. An empty array means the time ran out.
    public func waitForNotifications(timeoutMilliseconds: Int32) throws(PGError) -> [PGNotification] {
        let handle = try liveHandle("wait for notifications")
        var received = drainNotifications(handle)
        if !received.isEmpty { return received }
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw PGError(.connectionLost, "the connection has no socket") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready < 0 && errno != EINTR {
            throw PGError(.connectionLost, "poll failed on the connection's socket (errno \(errno))")
        }
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else {
                throw PGError(.connectionLost, PGConnection.errorMessage(handle), statement: "wait for notifications")
            }
            received = drainNotifications(handle)
        }
        return received
    }

    private func drainNotifications(_ handle: OpaquePointer) -> [PGNotification] {
        var received: [PGNotification] = []
        while let note = PQnotifies(handle) {
            received.append(
                PGNotification(
                    channel: String(cString: note.pointee.relname),
                    payload: note.pointee.extra.map { String(cString: $0) } ?? "",
                    senderPID: note.pointee.be_pid))
            PQfreemem(note)
        }
        return received
    }
}

/// Quotes an SQL identifier: wraps it in double quotes and doubles any inside.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
