import ArgumentParser
import Foundation
import Logging
import ReconMockChannel

/// `recon mock-channel`: the channels' bill APIs over loopback, for tests, the demo and drills.
struct MockChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-channel",
        abstract: "Serve Alipay, WeChat Pay, UnionPay and bank bill APIs from generated or given bill files.")

    @Option(help: "Address to listen on, host:port (port 0 picks a free one).") var listen = "127.0.0.1:7080"
    @Option(help: "Folder of bill files: served as given, or generated there on first request.") var data: String
    @Option(help: "Lines in a generated bill.") var lines = 200
    @Option(
        parsing: .singleValue,
        help:
            "A fault, channel:date:kind[:times[:argument]] (e.g. wechatpay:2026-11-23:fail_503:2; * for any; times 0 = always). Kinds: \(Fault.Kind.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var fault: [String] = []
    @Option(
        name: .customLong("bank-api-key-env"),
        help: "An environment variable holding the X-Api-Key that bank files require (none: no key needed).")
    var bankAPIKeyEnvironment: String?

    func validate() throws {
        guard listenAddress != nil else { throw ValidationError("--listen must be host:port, got \(listen)") }
        guard lines >= 0 else { throw ValidationError("--lines must be 0 or more") }
        for spec in fault where Fault(spec: spec) == nil {
            throw ValidationError("--fault \(spec): expected channel:date:kind[:times[:argument]]")
        }
    }

    private var listenAddress: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(listen[..<colon]), port)
    }

    func run() async throws {
        guard let address = listenAddress else { throw ValidationError("--listen must be host:port") }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let server = MockChannelServer(
            configuration: .init(
                host: address.host, port: address.port, dataFolder: data, linesPerDay: lines,
                faults: fault.compactMap(Fault.init(spec:)),
                bankAPIKey: bankAPIKeyEnvironment.flatMap { ProcessInfo.processInfo.environment[$0] }))
        try await server.run(logger: Logger(label: "recon.mock-channel")) { port in
            printNow("mock channel listening on \(address.host):\(port)")
        }
    }
}
