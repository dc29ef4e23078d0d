import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconHTTP
import ReconTestSupport
import Testing

/// Each way a transfer can end badly comes back as a result with its own outcome.
@Suite(.tags(.integration), .skippedWhenFast) struct FailureTests {
    @Test func serverSlowerThanTheTotalTimeoutGivesTimedOut() async throws {
        try await withTestServer({ router in
            router.get("slow") { _, _ -> String in
                try await Task.sleep(for: .seconds(3))
                return "late"
            }
        }) { base in
            let client = HTTPClient(options: HTTPOptions(totalTimeout: .milliseconds(300)))
            let result = try await client.send(HTTPRequest(url: "\(base)/slow"))

            #expect(result.outcome == .timedOut)
            #expect(result.curlCode == 28)  // CURLE_OPERATION_TIMEDOUT
            #expect(result.status == nil)
            // Our clock starts a moment after curl's, so a little under 300 ms is still the timeout.
            #expect(result.duration >= .milliseconds(250))
            #expect(result.duration < .seconds(2))
        }
    }

    @Test func serviceUnavailableIsAResultNotAnError() async throws {
        try await withTestServer({ router in
            router.get("unavailable") { _, _ in
                Response(
                    status: .serviceUnavailable, headers: [.retryAfter: "7"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "try later")))
            }
        }) { base in
            let result = try await HTTPClient().send(HTTPRequest(url: "\(base)/unavailable"))

            #expect(result.outcome == .completed)
            #expect(result.status == 503)
            #expect(!result.isSuccess)
            #expect(result.curlCode == 0)
            #expect(result.headers["Retry-After"] == "7")
            #expect(String(decoding: result.body, as: UTF8.self) == "try later")
            #expect(result.bytesReceived == 9)
        }
    }

    @Test func portWithNoListenerGivesConnectFailed() async throws {
        let port = try closedPort()
        let result = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/"))

        #expect(result.outcome == .connectFailed)
        #expect(result.curlCode == 7)  // CURLE_COULDNT_CONNECT
        #expect(result.status == nil)
        #expect(!result.curlMessage.isEmpty)
        #expect(result.redactedURL == "http://127.0.0.1:\(port)/")
    }

    @Test func stalledTransferGivesLowSpeedAbort() async throws {
        try await withTestServer({ router in
            router.get("trickle") { _, _ in
                Response(
                    status: .ok,
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: "0123456789"))
                        try await Task.sleep(for: .seconds(5))
                        try await writer.finish(nil)
                    })
            }
        }) { base in
            let options = HTTPOptions(
                totalTimeout: .seconds(10), lowSpeed: LowSpeedLimit(bytesPerSecond: 1000, window: .seconds(1)))
            let result = try await HTTPClient(options: options).send(HTTPRequest(url: "\(base)/trickle"))

            #expect(result.outcome == .lowSpeedAbort)
            #expect(result.curlCode == 42)  // CURLE_ABORTED_BY_CALLBACK
            // On a loaded machine the abort may come before the headers were read.
            #expect(result.status == nil || result.status == 200)
            #expect(result.duration >= .seconds(1))
            #expect(result.duration < .seconds(4))
        }
    }

    @Test func cancellingTheTaskStopsTheTransfer() async throws {
        try await withTestServer({ router in
            router.get("slow") { _, _ -> String in
                try await Task.sleep(for: .seconds(5))
                return "late"
            }
        }) { base in
            let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(10)))
            let request = HTTPRequest(url: "\(base)/slow")
            let task = Task { try await client.send(request) }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            let result = try await task.value

            #expect(result.outcome == .cancelled)
            #expect(result.status == nil)
            // Before the server's answer at 5 s; curl notices cancellation within about a second,
            // more on a loaded machine.
            #expect(result.duration < .milliseconds(4500))
        }
    }

    @Test func httpsToAPlainHTTPServerIsATLSFailure() async throws {
        try await withTestServer({ router in
            router.get("plain") { _, _ in "plain" }
        }) { base in
            let url = base.replacingOccurrences(of: "http://", with: "https://") + "/plain"
            let result = try await HTTPClient(options: HTTPOptions(totalTimeout: .seconds(5))).send(
                HTTPRequest(url: url))

            #expect(result.outcome == .tlsFailure)
            #expect([35, 77].contains(result.curlCode))  // SSL_CONNECT_ERROR, or no CA bundle
        }
    }

    /// The cap holds whether or not the server announces a length, in memory and on disk.
    @Test(arguments: [false, true], [false, true])
    func bodyOverTheCapIsStopped(announceLength: Bool, toFile: Bool) async throws {
        let payload = Payload.make(count: 1 << 20, seed: 7)
        let cap = 100_000
        try await withTemporaryDirectory { directory in
            try await withTestServer({ router in
                router.get("large") { _, _ in
                    Response(status: .ok, body: streamedBody(payload, announceLength: announceLength))
                }
            }) { base in
                let client = HTTPClient(options: HTTPOptions(totalTimeout: .seconds(10), maxBodySize: Int64(cap)))
                let request = HTTPRequest(url: "\(base)/large")
                let result: HTTPResult
                var kept: Int
                if toFile {
                    let file = directory.appendingPathComponent("large.part")
                    result = try await client.download(request, to: file.path)
                    kept = try Data(contentsOf: file).count
                    #expect(result.body.isEmpty)
                } else {
                    result = try await client.send(request)
                    kept = result.body.count
                }

                #expect(result.outcome == .bodyTooLarge)
                // Announced: curl refuses the Content-Length (CURLE_FILESIZE_EXCEEDED) before any byte.
                // Not announced: our write callback stops it (CURLE_WRITE_ERROR).
                #expect(result.curlCode == (announceLength ? 63 : 23))
                #expect(kept <= cap)
                #expect(Int64(kept) == result.bytesReceived)
                if announceLength { #expect(kept == 0) } else { #expect(kept > 0) }
            }
        }
    }
}
