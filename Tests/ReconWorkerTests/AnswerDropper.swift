import Foundation
import Hummingbird
import Logging
import NIOCore
import ReconHTTP
import ReconJobs
import Synchronization

@testable import ReconWorker

/// A loopback HTTP proxy in front of a coordinator: it forwards every call, and cuts the
/// connection instead of passing on the answer of the first `drops` lease calls that leased jobs.
/// The coordinator has committed those leases; the worker never hears of them.
final class AnswerDropper: Sendable {
    private struct State {
        var dropsLeft: Int
        /// The answers dropped, by request id.
        var dropped: [(request: String, jobs: [LeasedJob])] = []
    }

    private let coordinator: String
    private let state: Mutex<State>

    init(coordinator: String, drops: Int) {
        self.coordinator = coordinator
        state = Mutex(State(dropsLeft: drops))
    }

    var dropped: [(request: String, jobs: [LeasedJob])] { state.withLock { $0.dropped } }

    enum Cut: Error { case onPurpose }

    /// Serves until `body` returns; `body` gets the proxy's base URL.
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/:call") { request, context in try await self.forward(request, context: context) }
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "answer-dropper")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            }, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { portSink.finish() }
                try await app.run()
            }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw WorkerError("the proxy did not start") }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    private func forward(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let payload = try await request.body.collect(upTo: 1 << 20)
        let path = request.uri.path
        var headers: ReconHTTP.HTTPHeaders = ["Content-Type": "application/json"]
        if let authorization = request.headers[.authorization] {
            headers.append(name: "Authorization", value: authorization)
        }
        let answer = try await HTTPClient().send(
            ReconHTTP.HTTPRequest(
                method: .post, url: coordinator + path, headers: headers,
                body: Data(payload.readableBytesView)))
        let status = HTTPResponse.Status(code: answer.status ?? 502)
        if path == LeaseAPI.leasePath, answer.status == 200,
            let leased = try? JSONDecoder().decode(LeaseResponse.self, from: answer.body), !leased.jobs.isEmpty,
            let asked = try? JSONDecoder().decode(LeaseRequest.self, from: Data(payload.readableBytesView))
        {
            let drop = state.withLock { state -> Bool in
                guard state.dropsLeft > 0 else { return false }
                state.dropsLeft -= 1
                state.dropped.append((asked.requestId, leased.jobs))
                return true
            }
            if drop {
                // The head goes out with a length the body never reaches: the worker sees a cut answer.
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(contentLength: answer.body.count) { writer in
                        try await writer.write(ByteBuffer(bytes: answer.body.prefix(5)))
                        throw Cut.onPurpose
                    })
            }
        }
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
