import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves a bill file the way a channel's file server does: whole, or from a `Range: bytes=N-`
/// (206) for a resumed download; and with the download faults applied (cut, truncated, slow,
/// corrupted). The channel counts as busy until the last byte is written.
struct FileResponder: Sendable {
    enum Failure: Error {
        /// Thrown from the body writer to drop the connection mid-body.
        case cutOnPurpose
    }

    let stats: MockStats

    func respond(
        file path: String, channel: String, request: Request, fault: Fault?, contentType: String,
        extraHeaders: HTTPFields = [:]
    ) -> Response {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else {
            stats.leave(channel)
            return Response(status: .notFound)
        }
        var start = 0
        var status = HTTPResponse.Status.ok
        var headers = extraHeaders
        headers[.contentType] = contentType
        headers[.acceptRanges] = "bytes"
        if let range = request.headers[.range] {
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
        guard header.hasPrefix("bytes="), header.hasSuffix("-"), let start = Int(header.dropFirst(6).dropLast()), start >= 0
        else { return nil }
        return start
    }
}
