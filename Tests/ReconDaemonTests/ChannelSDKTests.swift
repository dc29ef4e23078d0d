import Foundation
import ReconTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The channels' own Python SDKs (alipay-sdk-python, wechatpayv3; scripts/sdk/requirements.txt)
/// against `recon mock-channel`, through the drivers in scripts/sdk/: what they sign is accepted,
/// what the mock answers they verify, and the bill they download is the one the mock keeps. The
/// SDKs live in the virtual environment scripts/sdk-venv makes; scripts/test exports its python
/// as RECON_SDK_PYTHON. Without it the tests fail under CI (CI=true) and are skipped elsewhere.
@Suite(.serialized) struct ChannelSDKTests {
    static let environment = ProcessInfo.processInfo.environment
    static let underCI = environment["CI"] == "true"
    static let python = environment["RECON_SDK_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    static let isRoot = getuid() == 0
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/sdk").path
    static let day = "2026-11-01"

    struct WeChatReport: Decodable {
        struct Fetched: Decodable { var sha1: String }
        var certificate_serial: String
        var certificate_mode: Fetched
        var public_key_mode: Fetched
        var tampered: String?
        var untyped: String?
        var stranger: String
    }

    struct AlipayReport: Decodable {
        var post: String
        var get: String
        var entries: [String: String]
        var tampered: String?
        var stranger: String
        var version: String
        var format: String
        var utc_timestamp: String
    }

    @Test(
        .enabled(
            if: python != nil || underCI,
            "RECON_SDK_PYTHON is not set: run scripts/test, or export the python scripts/sdk-venv prints"))
    func wechatpayv3SignsTheMockAcceptsAndTheSDKVerifiesAndDownloads() async throws {
        let python = try Self.sdkPython()
        let folder = try TemporaryFolder(label: "wechat-sdk")
        let merchant = "1900000001"
        let mock = try DaemonProcess(
            name: "mock-channel",
            arguments: [
                "mock-channel", "--listen", "127.0.0.1:0", "--data", folder.data, "--lines", "300",
                "--fault", "wechatpay:2026-11-02:bad_signature:0", "--fault", "wechatpay:2026-11-03:bad_signature:0:1",
            ])
        defer { withExtendedLifetime(mock) {} }
        let line = try await mock.waitForLine(containing: "mock channel listening on")
        let port = try #require(line.split(separator: ":").last.map(String.init))

        let report: WeChatReport = try await Self.runDriver(
            python, "wechatpay_driver.py",
            [
                "--base", "http://127.0.0.1:\(port)", "--data", folder.data, "--mchid", merchant, "--date", Self.day,
                "--tampered-date", "2026-11-02", "--untyped-date", "2026-11-03", "--out", folder.out,
            ])
        #expect(report.certificate_serial.count == 40 && report.certificate_serial.allSatisfy(\.isHexDigit))
        // Both modes downloaded exactly the bill the mock keeps (its SHA-1 checked by the driver).
        let kept = try Data(contentsOf: URL(fileURLWithPath: "\(folder.data)/wechatpay/\(merchant)/20261101.csv"))
        for name in ["by-certificate.csv", "by-public-key.csv"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(folder.out)/\(name)")) == kept, "\(name)")
        }
        #expect(report.certificate_mode.sha1 == report.public_key_mode.sha1)
        #expect(report.tampered?.contains("failed to verify the signature") == true, "\(report.tampered ?? "taken")")
        #expect(report.untyped?.contains("does not support this algorithm") == true, "\(report.untyped ?? "taken")")
        #expect(report.stranger == "401 SIGN_ERROR")
    }

    @Test(
        .enabled(
            if: (python != nil && isRoot) || underCI,
            "needs RECON_SDK_PYTHON (scripts/test sets it) and root: the official Alipay SDK connects to port 80 only"
        ))
    func alipaySDKIsAcceptedVerifiesAndDownloadsOnPort80() async throws {
        let python = try Self.sdkPython()
        guard Self.isRoot else {
            Issue.record("the official Alipay SDK connects to port 80 only; binding it needs root, as CI runs")
            return
        }
        let folder = try TemporaryFolder(label: "alipay-sdk")
        let appID = "2021000000000042"
        let (mock, host) = try await Self.startMockOnPort80(
            data: folder.data, faults: ["alipay:2026-11-02:bad_signature:0"])
        defer { withExtendedLifetime(mock) {} }

        let report: AlipayReport = try await Self.runDriver(
            python, "alipay_driver.py",
            [
                "--host", host, "--data", folder.data, "--app-id", appID, "--date", Self.day,
                "--tampered-date", "2026-11-02", "--out", folder.out,
            ], environment: ["TZ": "CST-8"])
        #expect(report.post == "10000")
        #expect(report.get == "10000")
        let account = "2088000000000042" + "0156"
        #expect(report.entries["details"] == "\(account)_20261101_业务明细.csv")
        #expect(report.entries["summary"] == "\(account)_20261101_业务明细(汇总).csv")
        for kind in ["details", "summary"] {
            let kept = try Data(contentsOf: URL(fileURLWithPath: "\(folder.data)/alipay/\(appID)/20261101.\(kind).csv"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(folder.out)/\(kind).csv")) == kept, "\(kind)")
        }
        #expect(report.tampered?.contains("response sign verify failed") == true, "\(report.tampered ?? "taken")")
        #expect(report.stranger == "40002 isv.invalid-signature")
        #expect(report.utc_timestamp == "40002 isv.invalid-timestamp")
        #expect(report.version == "40002 isv.invalid-parameter")
        #expect(report.format == "40002 isv.invalid-format")
    }

    /// The venv's python, or a failure saying how to get one (only reached without it under CI).
    static func sdkPython() throws -> String {
        guard let python else {
            throw DaemonError(
                "RECON_SDK_PYTHON is not set under CI: scripts/test makes the channel SDKs' virtual environment "
                    + "with scripts/sdk-venv and exports its python; run the suite through scripts/test")
        }
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw DaemonError("RECON_SDK_PYTHON=\(python) is not an executable file")
        }
        return python
    }

    /// `recon mock-channel` on port 80 of a loopback address of its own (127.x.y.z: nothing else
    /// on the machine listening on 127.0.0.1:80 gets in the way); a few addresses are tried.
    static func startMockOnPort80(data: String, faults: [String]) async throws -> (DaemonProcess, String) {
        var outputs: [String] = []
        for _ in 0..<3 {
            let host = "127.\(Int.random(in: 1...254)).\(Int.random(in: 1...254)).\(Int.random(in: 2...254))"
            let mock = try DaemonProcess(
                name: "mock-channel",
                arguments: ["mock-channel", "--listen", "\(host):80", "--data", data, "--lines", "300"]
                    + faults.flatMap { ["--fault", $0] })
            do {
                _ = try await mock.waitForLine(containing: "mock channel listening on")
                return (mock, host)
            } catch {
                outputs.append("\(host):80: \(error)")
            }
        }
        throw DaemonError("the mock channel could not listen on port 80: \(outputs.joined(separator: "\n"))")
    }

    /// Runs `scripts/sdk/<driver>` with the SDKs' python; its one line of JSON on stdout, decoded.
    static func runDriver<Report: Decodable>(
        _ python: String, _ driver: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(180)
    ) async throws -> Report {
        let folder = try TemporaryFolder(label: "driver")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["\(scripts)/\(driver)"] + arguments
        process.environment = Self.environment.merging(environment.merging(["PYTHONDONTWRITEBYTECODE": "1"]) { $1 }) {
            $1
        }
        FileManager.default.createFile(atPath: folder.path + "/stdout", contents: nil)
        FileManager.default.createFile(atPath: folder.path + "/stderr", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.path + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.path + "/stderr"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw DaemonError("\(driver) did not finish in \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let output = (try? String(contentsOfFile: folder.path + "/stdout", encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: folder.path + "/stderr", encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0,
            let line = output.split(separator: "\n").last,
            let report = try? JSONDecoder().decode(Report.self, from: Data(line.utf8))
        else {
            throw DaemonError(
                "\(driver) exited \(process.terminationStatus); stdout:\n\(output.suffix(2000))\nstderr:\n\(errors.suffix(4000))"
            )
        }
        return report
    }
}

/// A temporary folder with `data` (the mock's) and `out` (what a driver writes) in it, removed
/// when it goes away.
final class TemporaryFolder: Sendable {
    let path: String
    var data: String { path + "/data" }
    var out: String { path + "/out" }

    init(label: String) throws {
        path = NSTemporaryDirectory() + "recon-\(label)-\(UUID().uuidString)"
        for folder in [path + "/data", path + "/out"] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
