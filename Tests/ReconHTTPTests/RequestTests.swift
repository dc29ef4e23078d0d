import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconHTTP
import ReconTestSupport
import Testing

@Suite(.tags(.integration), .skippedWhenFast) struct RequestTests {
    /// A client with kept-alive handles connects once for calls one after another and once more for
    /// each call that overlaps another; a client without them connects for every call.
    @Test func keptAliveHandlesReuseTheirConnection() async throws {
        try await withTestServer({ router in
            router.post("call") { request, _ in
                let body = try await request.body.collect(upTo: 1 << 16)
                return Response(status: .ok, body: ResponseBody(byteBuffer: body))
            }
        }) { base in
            let request = HTTPRequest(method: .post, url: "\(base)/call", body: Data("{}".utf8))
            let keptAlive = HTTPClient(keepAlive: KeptAliveHandles(maxIdle: 4))
            var opened: [Int] = []
            for _ in 0..<5 {
                let result = try await keptAlive.send(request)
                #expect(result.status == 200 && result.body == Data("{}".utf8))
                opened.append(result.connectionsOpened)
            }
            #expect(opened == [1, 0, 0, 0, 0])
            // Two at once: the second takes a handle of its own, which connects.
            async let first = keptAlive.send(HTTPRequest(method: .post, url: "\(base)/call", body: Data("1".utf8)))
            async let second = keptAlive.send(HTTPRequest(method: .post, url: "\(base)/call", body: Data("2".utf8)))
            let both = try await [first, second]
            #expect(both.map(\.body) == [Data("1".utf8), Data("2".utf8)])
            #expect(both.map(\.connectionsOpened).reduce(0, +) <= 1)
            var plain: [Int] = []
            for _ in 0..<3 { plain.append(try await HTTPClient().send(request).connectionsOpened) }
            #expect(plain == [1, 1, 1])
        }
    }

    /// Body bytes (NUL and non-UTF-8 included) and headers reach the server unchanged.
    @Test(arguments: [HTTPMethod.post, .put])
    func bodyAndHeadersRoundTrip(method: HTTPMethod) async throws {
        let sent = Payload.bytes(Payload.make(count: 200_000, seed: 8)) + Data([0, 0xFF, 0, 0x80])
        try await withTestServer({ router in
            let echo: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
                let body = try await request.body.collect(upTo: 1 << 20)
                let name = { (text: String) in HTTPField.Name(text)! }
                var headers = HTTPFields()
                headers[name("X-Echo-Method")] = request.method.rawValue
                headers[name("X-Echo-Test")] = request.headers[name("X-Recon-Test")] ?? "missing"
                headers[name("X-Echo-Empty")] = request.headers[name("X-Empty")].map { "[\($0)]" } ?? "missing"
                headers[name("X-Echo-Expect")] = request.headers[.expect] ?? "none"
                headers[name("X-Echo-Query")] = request.uri.query ?? "none"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
            }
            router.post("echo", use: echo)
            router.put("echo", use: echo)
        }) { base in
            let request = HTTPRequest(
                method: method, url: "\(base)/echo?sig=topsecret-signature",
                headers: ["X-Recon-Test": "abc 123", "X-Empty": "", "Authorization": "Bearer secret-token"],
                body: sent)
            let result = try await HTTPClient().send(request)

            #expect(result.outcome == .completed)
            #expect(result.status == 200)
            #expect(result.body == sent)
            #expect(result.headers["x-echo-method"] == method.rawValue)
            #expect(result.headers["x-echo-test"] == "abc 123")
            #expect(result.headers["x-echo-empty"] == "[]")
            #expect(result.headers["x-echo-expect"] == "none")
            #expect(result.headers["x-echo-query"] == "sig=topsecret-signature")
            // What may be logged carries neither the query nor the token.
            #expect(result.redactedURL == "\(base)/echo")
            for text in ["\(result)", "\(request)", String(reflecting: request), result.curlMessage] {
                #expect(!text.contains("topsecret"))
                #expect(!text.contains("secret-token"))
            }
        }
    }

    @Test func redactedURLKeepsSchemeHostPortAndPath() {
        #expect(
            redactedURL("https://user:pw@bank.example.com/files/a.csv?sig=abc&x=1#frag")
                == "https://bank.example.com:443/files/a.csv")
        #expect(redactedURL("http://127.0.0.1:8080") == "http://127.0.0.1:8080/")
        #expect(redactedURL("http://[::1]:9/p?q") == "http://[::1]:9/p")
        #expect(redactedURL("not a url?token=secret") == "<unparseable URL>")
    }

    @Test func headerInjectionIsRefusedWithoutEchoingTheValue() async throws {
        let request = HTTPRequest(url: "http://127.0.0.1:1/", headers: ["X-Evil": "a\r\nAuthorization: Bearer leaked"])
        let error = await #expect(throws: HTTPClientError.self) { try await HTTPClient().send(request) }
        guard case .invalidRequest(let reason) = error else {
            Issue.record("expected invalidRequest, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("X-Evil"))
        #expect(error?.description.contains("leaked") == false)
    }
}
