import Foundation
import HTTPTypes
import Hummingbird
public import Logging
import NIOCore

/// `recon mock-channel`: the channels' bill APIs over loopback, in their real wire formats
/// (CHANNELS.md), so one Recon configuration points at the mock or the real channel by URL
/// alone. Faults are set per channel and date at start or through `/admin/faults`; `/admin/stats`
/// tells how many requests each channel saw and the most in flight at once. UnionPay's root and
/// middle certificates are written to `<data>/unionpay-root.pem` and `<data>/unionpay-middle.pem`.
public struct MockChannelServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Bills served as given, or generated on first request (see `MockBillStore`).
        public var dataFolder: String
        public var linesPerDay: Int
        public var faults: [Fault]
        /// When set, bank files need `X-Api-Key` with this value (else 401), as a bank's would.
        public var bankAPIKey: String?

        public init(
            host: String = "127.0.0.1", port: Int = 0, dataFolder: String, linesPerDay: Int = 200, faults: [Fault] = [],
            bankAPIKey: String? = nil
        ) {
            self.host = host
            self.port = port
            self.dataFolder = dataFolder
            self.linesPerDay = linesPerDay
            self.faults = faults
            self.bankAPIKey = bankAPIKey
        }
    }

    public let configuration: Configuration
    public let faults: FaultPlan
    public let stats = MockStats()

    public init(configuration: Configuration) {
        self.configuration = configuration
        faults = FaultPlan(configuration.faults)
    }

    /// Serves until the task is cancelled; `onListening` gets the bound port.
    public func run(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        let store = MockBillStore(folder: configuration.dataFolder, linesPerDay: configuration.linesPerDay)
        let files = FileResponder(stats: stats)
        BankRoutes(store: store, faults: faults, stats: stats, files: files, apiKey: configuration.bankAPIKey).register(
            on: router)
        try WeChatRoutes(
            store: store, faults: faults, stats: stats, files: files,
            platform: MockWeChatPlatform(folder: configuration.dataFolder + "/wechatpay")
        ).register(on: router)
        try AlipayRoutes(
            store: store, faults: faults, stats: stats, files: files,
            key: MockSigningKey(folder: configuration.dataFolder + "/alipay", name: "alipay")
        ).register(on: router)
        // A new chain each start; the keys are made once per process.
        let unionPay = try MockUnionPaySigner(keys: .shared())
        try unionPay.writeTrustFiles(to: configuration.dataFolder)
        UnionPayRoutes(store: store, faults: faults, stats: stats, files: files, signer: unionPay).register(on: router)
        AdminRoutes(faults: faults, stats: stats).register(on: router)
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "recon-mock-channel"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.run()
    }
}

/// `GET /admin/stats`, `POST /admin/stats/reset`, `GET|POST|DELETE /admin/faults`.
struct AdminRoutes: Sendable {
    let faults: FaultPlan
    let stats: MockStats

    func register(on router: Router<BasicRequestContext>) {
        router.get("admin/stats") { _, _ in try json(stats.snapshot) }
        router.post("admin/stats/reset") { _, _ in
            stats.reset()
            return Response(status: .noContent)
        }
        router.get("admin/faults") { _, _ in try json(faults.active) }
        router.post("admin/faults") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let added = try? JSONDecoder().decode([Fault].self, from: Data(body.readableBytesView)) else {
                return Response(
                    status: .badRequest,
                    body: ResponseBody(byteBuffer: .init(string: "expected [{channel, date, kind, times, argument?}]")))
            }
            faults.add(added)
            return try json(faults.active)
        }
        router.delete("admin/faults") { _, _ in
            faults.clear()
            return Response(status: .noContent)
        }
    }

    private func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
