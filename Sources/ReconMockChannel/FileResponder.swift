import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconCalendar
import ReconCore
import Synchronization

/// Serves a bill file the way a channel's file server does: whole, or from a `Range: bytes=N-`
/// (206) for a resumed download, with an ETag and Last-Modified, and an `If-Range` that no
/// longer matches answered with the whole file (200); and with the download faults applied (cut,
/// truncated, slow, corrupted). The channel counts as busy until the last byte is written.
struct FileResponder: Sendable {
    enum Failure: Error {
        /// Thrown from the body writer to drop the connection mid-body.
        case cutOnPurpose
    }

    let stats: MockStats
    let entityTags = EntityTags()

    func respond(
        file path: String, channel: String, request: Request, fault: Fault?, contentType: String,
        extraHeaders: HTTPFields = [:]
    ) -> Response {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue,
            let modified = attributes[.modificationDate] as? Date,
            let tag = try? entityTags.tag(path: path, size: size, modified: modified)
        else {
            stats.leave(channel)
            return Response(status: .notFound)
        }
        var start = 0
        var status = HTTPResponse.Status.ok
        var headers = extraHeaders
        let lastModified = HTTPDate.text(modified)
        headers[.contentType] = contentType
        headers[.acceptRanges] = "bytes"
        headers[.eTag] = tag
        headers[.lastModified] = lastModified
        // If-Range naming another version of the file: the Range is ignored, the whole file comes.
        let rangeHolds = request.headers[.ifRange].map { $0 == tag || $0 == lastModified } ?? true
        if let range = request.headers[.range], rangeHolds {
            guard let from = Self.rangeStart(range), from < size else {
                stats.leave(channel)
                return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"])
            }
            start = from
            status = .partialContent
            headers[.contentRange] = "bytes \(from)-\(size - 1)/\(size)"
        }
        var end = size
        var announced = size - start
        switch fault?.kind {
        case .truncatedBody:
            end = start + (size - start) / 2
            announced = end - start
        case .cutBody:
            end = start + (size - start) / 2
        default:
            break
        }
        let corruptAt = fault?.kind == .corruptArchive ? size / 2 : nil
        let bytesPerSecond = fault?.kind == .slow ? max(64, fault?.argument ?? 4096) : nil
        let cut = fault?.kind == .cutBody
        let stats = self.stats
        let (first, last) = (start, end)
        return Response(
            status: status, headers: headers,
            body: ResponseBody(contentLength: announced) { writer in
                defer { stats.leave(channel) }
                guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure.cutOnPurpose }
                defer { try? handle.close() }
                try handle.seek(toOffset: UInt64(first))
                var offset = first
                let chunkSize = bytesPerSecond.map { max(16, $0 / 20) } ?? 64 * 1024
                while offset < last {
                    let count = min(chunkSize, last - offset)
                    guard var chunk = try handle.read(upToCount: count), !chunk.isEmpty else { break }
                    if let corruptAt, (offset..<offset + chunk.count).contains(corruptAt) {
                        chunk[chunk.startIndex + corruptAt - offset] ^= 0xFF
                    }
                    // Trickling waits before each chunk, so the request ends with its last byte and
                    // is not counted in flight after the client has it all.
                    if let bytesPerSecond {
                        try await Task.sleep(for: .milliseconds(max(1, chunk.count * 1000 / bytesPerSecond)))
                    }
                    try await writer.write(ByteBuffer(bytes: chunk))
                    offset += chunk.count
                }
                if cut {
                    // Let what was written drain before the connection drops.
                    try await Task.sleep(for: .milliseconds(200))
                    throw Failure.cutOnPurpose
                }
                try await writer.finish(nil)
            })
    }

    /// `bytes=N-` → N; other range forms are not used by Recon.
    static func rangeStart(_ header: String) -> Int? {
        guard header.hasPrefix("bytes="), header.hasSuffix("-"), let start = Int(header.dropFirst(6).dropLast()),
            start >= 0
        else { return nil }
        return start
    }
}

/// Strong ETags for the served files (a quoted SHA-256 prefix), hashed once per version of a file.
final class EntityTags: Sendable {
    private struct Version: Equatable {
        var size: Int
        var modified: Date
    }

    private let known = Mutex<[String: (version: Version, tag: String)]>([:])

    func tag(path: String, size: Int, modified: Date) throws -> String {
        let version = Version(size: size, modified: modified)
        if let entry = known.withLock({ $0[path] }), entry.version == version { return entry.tag }
        let tag = "\"" + String(try MockDigest.sha256(path: path).prefix(32)) + "\""
        known.withLock { $0[path] = (version, tag) }
        return tag
    }
}

/// HTTP dates (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func text(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let dayNumber = Int(CivilCalendar.floorDivide(seconds, by: 86_400))
        let secondOfDay = Int(seconds - Int64(dayNumber) * 86_400)
        let (year, month, day) = CivilCalendar.date(dayNumber: dayNumber)
        let weekday = days[CivilCalendar.weekday(dayNumber: dayNumber)]
        return "\(weekday), \(twoDigits(day)) \(months[month - 1]) \(year) \(twoDigits(secondOfDay / 3600)):"
            + "\(twoDigits(secondOfDay / 60 % 60)):\(twoDigits(secondOfDay % 60)) GMT"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
