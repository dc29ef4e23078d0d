import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReconHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// Hummingbird re-exports swift-http-types' `HTTPRequest`; in these tests the name means ours.
typealias HTTPRequest = ReconHTTP.HTTPRequest

/// Runs a Hummingbird server on 127.0.0.1 at a port the kernel picks, for as long as `body` runs.
func withTestServer<T>(
    _ routes: (Router<BasicRequestContext>) -> Void,
    _ body: (_ baseURL: String) async throws -> T
) async throws -> T {
    let router = Router()
    routes(router)
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    // Stopping the server by cancellation makes it log an error for each test; that is expected.
    var logger = Logger(label: "recon-http-test-server")
    logger.logLevel = .critical
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portSink.yield(channel.localAddress?.port ?? 0)
            portSink.finish()
        },
        logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            // If the server fails to start, end the port stream so the test does not wait forever.
            defer { portSink.finish() }
            try await app.run()
        }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw TestServerError.didNotStart }
        return try await body("http://127.0.0.1:\(port)")
    }
}

enum TestServerError: Error {
    case didNotStart
    /// Thrown from a response body writer to drop the connection mid-body.
    case cutOnPurpose
    case badRange
}

/// Requests' `Range` headers, in arrival order (nil for a request without one).
actor RangeLog {
    private(set) var ranges: [String?] = []

    func record(_ range: String?) { ranges.append(range) }
}

/// Deterministic test bodies, made in memory.
enum Payload {
    /// `count` bytes of xorshift64* output for `seed`.
    static func make(count: Int, seed: UInt64) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var state = seed | 1
            func next() -> UInt64 {
                state ^= state >> 12
                state ^= state << 25
                state ^= state >> 27
                return state &* 0x2545_F491_4F6C_DD1D
            }
            var offset = 0
            while offset + 8 <= count {
                raw.storeBytes(of: next().littleEndian, toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            var tail = next()
            while offset < count {
                raw[offset] = UInt8(truncatingIfNeeded: tail)
                tail >>= 8
                offset += 1
            }
            return count
        }
        return buffer
    }

    static let fiftyMiB = make(count: 50 << 20, seed: 50)
    static let fiftyMiBDigest = sha256Hex(fiftyMiB)

    static func sha256Hex(_ buffer: ByteBuffer) -> String {
        buffer.withUnsafeReadableBytes { hex(SHA256.hash(data: $0)) }
    }

    static func sha256Hex(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static func bytes(_ buffer: ByteBuffer) -> Data {
        buffer.withUnsafeReadableBytes { Data($0) }
    }
}

/// Streams `buffer` in 64 KiB writes, announcing its length when `announceLength` is set.
func streamedBody(_ buffer: ByteBuffer, announceLength: Bool = true) -> ResponseBody {
    ResponseBody(contentLength: announceLength ? buffer.readableBytes : nil) { writer in
        var rest = buffer
        while let chunk = rest.readSlice(length: min(64 << 10, rest.readableBytes)), chunk.readableBytes > 0 {
            try await writer.write(chunk)
        }
        try await writer.finish(nil)
    }
}

/// The offset N of a `Range: bytes=N-` header.
func rangeStart(_ header: String) throws -> Int {
    guard header.hasPrefix("bytes="), header.hasSuffix("-"), let start = Int(header.dropFirst(6).dropLast()) else {
        throw TestServerError.badRange
    }
    return start
}

extension HTTPField.Name {
    // swift-format-ignore: NeverForceUnwrap
    static let contentSHA256 = HTTPField.Name("X-Content-SHA256")!
}

/// A folder of its own for one test's files, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recon-http-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// A loopback port with no listener: bound, read, closed.
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EBADF) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    return Int(UInt16(bigEndian: address.sin_port))
}
