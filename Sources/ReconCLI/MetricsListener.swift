import ArgumentParser
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReconMetrics
import ServiceLifecycle

/// A worker's `--metrics-listen host:port`: a small HTTP server with `GET /metrics` alone. No
/// token, as for the coordinator's: Prometheus scrapers send none, and the page holds counts and
/// durations labelled by job kind, channel name and status, no secret and no merchant's data.
struct MetricsListener: Service {
    let host: String
    let port: Int
    let logger: Logger
    /// Told the bound port once the server accepts (port 0 picks a free one).
    let onListening: @Sendable (Int) -> Void

    init(address: String, logger: Logger, onListening: @escaping @Sendable (Int) -> Void) throws {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port), colon != address.startIndex
        else { throw ValidationError("--metrics-listen must be host:port, got \(address)") }
        self.host = String(address[..<colon])
        self.port = port
        self.logger = logger
        self.onListening = onListening
    }

    func run() async throws {
        let router = Router()
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = ReconMetrics.contentType
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: ReconMetrics.exposition())))
        }
        let onListening = self.onListening
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) }, logger: logger)
        try await app.run()
    }
}
