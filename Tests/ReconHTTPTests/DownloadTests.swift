import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconHTTP
import ReconTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.tags(.integration), .skippedWhenFast) struct DownloadTests {
    @Test func streamedDownloadMatchesTheServersDigest() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestServer({ router in
                router.get("big") { _, _ in
                    Response(
                        status: .ok, headers: [.contentSHA256: Payload.fiftyMiBDigest],
                        body: streamedBody(Payload.fiftyMiB))
                }
            }) { base in
                let file = directory.appendingPathComponent("big.part").path
                let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(30), maxBodySize: 64 << 20))
                let result = try await client.download(HTTPRequest(url: "\(base)/big"), to: file)

                #expect(result.outcome == .completed)
                #expect(result.status == 200)
                #expect(result.isSuccess)
                #expect(result.bytesReceived == Int64(50 << 20))
                #expect(result.resumedFrom == 0)
                #expect(result.body.isEmpty)
                let written = try Data(contentsOf: URL(fileURLWithPath: file))
                #expect(written.count == 50 << 20)
                let serverDigest = try #require(result.headers["x-content-sha256"])
                #expect(serverDigest == Payload.fiftyMiBDigest)
                #expect(Payload.sha256Hex(written) == serverDigest)
            }
        }
    }

    @Test func resumesAfterTheServerCutTheConnectionHalfway() async throws {
        let payload = Payload.make(count: 8 << 20, seed: 5)
        let total = payload.readableBytes
        let half = total / 2
        let log = RangeLog()
        try await withTemporaryDirectory { directory in
            try await withTestServer({ router in
                router.get("flaky") { request, _ in
                    let range = request.headers[.range]
                    await log.record(range)
                    guard let range else {
                        // Announce the whole length, send half, let it drain, then drop the connection
                        // by failing the body writer.
                        return Response(
                            status: .ok,
                            body: ResponseBody(contentLength: total) { writer in
                                try await writer.write(payload.getSlice(at: 0, length: half) ?? ByteBuffer())
                                try await Task.sleep(for: .milliseconds(300))
                                throw TestServerError.cutOnPurpose
                            })
                    }
                    let start = try rangeStart(range)
                    guard start < total, let rest = payload.getSlice(at: start, length: total - start) else {
                        return Response(status: .rangeNotSatisfiable)
                    }
                    return Response(
                        status: .partialContent, headers: [.contentRange: "bytes \(start)-\(total - 1)/\(total)"],
                        body: streamedBody(rest))
                }
            }) { base in
                let file = directory.appendingPathComponent("flaky.part").path
                let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(60), maxBodySize: 16 << 20))
                let request = HTTPRequest(url: "\(base)/flaky")

                let first = try await client.download(request, to: file, resume: true)
                #expect(first.outcome == .cutOff)
                #expect(first.curlCode == 18)  // CURLE_PARTIAL_FILE: fewer bytes than Content-Length
                #expect(first.status == 200)
                #expect(first.bytesReceived == Int64(half))
                #expect(first.resumedFrom == 0)
                // Closed by the server, not left hanging until the client's timeout.
                #expect(first.duration < .seconds(30))
                let firstHalf = try Data(contentsOf: URL(fileURLWithPath: file))
                #expect(firstHalf == Payload.bytes(payload.getSlice(at: 0, length: half) ?? ByteBuffer()))

                let second = try await client.download(request, to: file, resume: true)
                #expect(second.outcome == .completed)
                #expect(second.status == 206)
                #expect(second.resumedFrom == Int64(half))
                #expect(second.bytesReceived == Int64(total - half))
                #expect(!second.restartedFromZero)
                #expect(second.headers["content-range"] == "bytes \(half)-\(total - 1)/\(total)")
                let whole = try Data(contentsOf: URL(fileURLWithPath: file))
                #expect(whole.count == total)
                #expect(Payload.sha256Hex(whole) == Payload.sha256Hex(payload))
                #expect(await log.ranges == [nil, "bytes=\(half)-"])
            }
        }
    }

    /// The server ignores Range and answers 200: the stale partial file must not be kept, even
    /// when it is exactly as long as the body.
    @Test(arguments: [1000, 1 << 20])
    func wholeBodyAnswerToARangeRestartsFromZero(partialSize: Int) async throws {
        let payload = Payload.make(count: 1 << 20, seed: 6)
        let log = RangeLog()
        try await withTemporaryDirectory { directory in
            try await withTestServer({ router in
                router.get("whole") { request, _ in
                    await log.record(request.headers[.range])
                    return Response(status: .ok, body: ResponseBody(byteBuffer: payload))
                }
            }) { base in
                let file = directory.appendingPathComponent("whole.part")
                try Data(repeating: 0xEE, count: partialSize).write(to: file)
                let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(60)))
                let result = try await client.download(HTTPRequest(url: "\(base)/whole"), to: file.path, resume: true)

                #expect(result.outcome == .completed)
                #expect(result.status == 200)
                #expect(result.restartedFromZero)
                #expect(result.resumedFrom == 0)
                #expect(result.bytesReceived == Int64(payload.readableBytes))
                #expect(try Data(contentsOf: file) == Payload.bytes(payload))
                #expect(await log.ranges == ["bytes=\(partialSize)-"])
            }
        }
    }

    /// A 206 for another range than asked: its bytes would land in the wrong place, so the
    /// download is done again whole.
    @Test func partialAnswerForAnotherRangeIsFetchedAgainWhole() async throws {
        let payload = Payload.make(count: 300_000, seed: 9)
        let total = payload.readableBytes
        let log = RangeLog()
        try await withTemporaryDirectory { directory in
            try await withTestServer({ router in
                router.get("skewed") { request, _ in
                    let range = request.headers[.range]
                    await log.record(range)
                    guard range != nil, let rest = payload.getSlice(at: 10, length: total - 10) else {
                        return Response(status: .ok, body: ResponseBody(byteBuffer: payload))
                    }
                    return Response(
                        status: .partialContent, headers: [.contentRange: "bytes 10-\(total - 1)/\(total)"],
                        body: ResponseBody(byteBuffer: rest))
                }
            }) { base in
                let file = directory.appendingPathComponent("skewed.part")
                try Data(payload.readableBytesView.prefix(1000)).write(to: file)
                let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(60)))
                let result = try await client.download(HTTPRequest(url: "\(base)/skewed"), to: file.path, resume: true)

                #expect(result.outcome == .completed)
                #expect(result.status == 200)
                #expect(result.restartedFromZero)
                #expect(result.resumedFrom == 0)
                #expect(try Data(contentsOf: file) == Payload.bytes(payload))
                #expect(await log.ranges == ["bytes=1000-", nil])
            }
        }
    }

    /// `ifRange` goes out beside the Range only: a server whose file has another validator now
    /// answers 200 and the stale part is replaced whole; a matching one continues it (206).
    @Test func ifRangeGoesWithTheRangeAndAReplacedFileComesWhole() async throws {
        let payload = Payload.make(count: 200_000, seed: 11)
        let total = payload.readableBytes
        let log = RangeLog()
        try await withTemporaryDirectory { directory in
            try await withTestServer({ router in
                router.get("versioned") { request, _ in
                    let range = request.headers[.range]
                    let ifRange = request.headers[.ifRange]
                    await log.record("\(range ?? "-") \(ifRange ?? "-")")
                    guard let range, ifRange == nil || ifRange == "\"v2\"" else {
                        return Response(
                            status: .ok, headers: [.eTag: "\"v2\""], body: ResponseBody(byteBuffer: payload))
                    }
                    let start = try rangeStart(range)
                    return Response(
                        status: .partialContent,
                        headers: [.eTag: "\"v2\"", .contentRange: "bytes \(start)-\(total - 1)/\(total)"],
                        body: ResponseBody(
                            byteBuffer: payload.getSlice(at: start, length: total - start) ?? ByteBuffer()))
                }
            }) { base in
                let file = directory.appendingPathComponent("versioned.part")
                let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(60)))
                let request = HTTPRequest(url: "\(base)/versioned")

                try Data(repeating: 0xEE, count: 1000).write(to: file)
                let replaced = try await client.download(request, to: file.path, resume: true, ifRange: "\"v1\"")
                #expect(replaced.status == 200)
                #expect(replaced.restartedFromZero)
                #expect(try Data(contentsOf: file) == Payload.bytes(payload))

                try Data(payload.readableBytesView.prefix(1000)).write(to: file)
                let continued = try await client.download(request, to: file.path, resume: true, ifRange: "\"v2\"")
                #expect(continued.status == 206)
                #expect(continued.resumedFrom == 1000)
                #expect(try Data(contentsOf: file) == Payload.bytes(payload))

                let fresh = try await client.download(request, to: file.path, resume: false, ifRange: "\"v2\"")
                #expect(fresh.status == 200)
                #expect(RangeValidator.of(fresh.headers) == "\"v2\"")
                #expect(await log.ranges == ["bytes=1000- \"v1\"", "bytes=1000- \"v2\"", "- -"])
            }
        }
    }

    /// What may go back as If-Range: a strong ETag first, else Last-Modified, never a weak tag.
    @Test func rangeValidatorPrefersAStrongTag() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT"
        #expect(RangeValidator.of(["ETag": "\"abc\"", "Last-Modified": date]) == "\"abc\"")
        #expect(RangeValidator.of(["ETag": "W/\"abc\"", "Last-Modified": date]) == date)
        #expect(RangeValidator.of(["ETag": "W/\"abc\""]) == nil)
        #expect(RangeValidator.of(["ETag": "abc"]) == nil)
        #expect(RangeValidator.of([:]) == nil)
        #expect(!RangeValidator.isSendable(""))
        #expect(!RangeValidator.isSendable("\"a\u{0}b\""))
        #expect(!RangeValidator.isSendable("\"\(String(repeating: "a", count: 300))\""))
    }

    @Test func errorStatusOnResumeLeavesThePartialFileAlone() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestServer({ router in
                router.get("unavailable") { _, _ in
                    Response(
                        status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "try later")))
                }
            }) { base in
                let file = directory.appendingPathComponent("kept.part")
                let partial = Data(repeating: 0xAB, count: 1000)
                try partial.write(to: file)
                let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(60)))
                let result = try await client.download(
                    HTTPRequest(url: "\(base)/unavailable"), to: file.path, resume: true)

                #expect(result.status == 503)
                #expect(!result.isSuccess)
                #expect(String(decoding: result.body, as: UTF8.self) == "try later")
                #expect(try Data(contentsOf: file) == partial)
            }
        }
    }

    @Test func unopenableFileThrowsWithItsPath() async throws {
        let client = HTTPClient()
        let path = "/nonexistent-recon-dir/file.part"
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.download(HTTPRequest(url: "http://127.0.0.1:1/"), to: path)
        }
        #expect(error == .cannotOpenFile(path: path, errno: ENOENT))
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("No such file or directory") == true)
    }
}
