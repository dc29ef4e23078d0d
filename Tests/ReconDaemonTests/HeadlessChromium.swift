import Foundation
import Glibc
import ReconBlocking

/// Debian's Chromium, headless, driven over the DevTools protocol through a pipe
/// (`--remote-debugging-pipe`: commands on its descriptor 3, answers and events on 4, each a JSON
/// object ended by a NUL byte). The two descriptors are FIFOs in a private folder, handed over by
/// the shell that execs Chromium. Every call blocks, so the test makes them on a thread of this
/// object's own (`run`).
final class HeadlessChromium: @unchecked Sendable {
    // @unchecked: the descriptors, counter and buffer are only touched on `thread`, one call at a time.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let process: Process
    let folder: String
    let logPath: String
    private let toChrome: Int32
    private let fromChrome: Int32
    private var nextID = 1
    private var pending: [UInt8] = []
    private var sessionID: String?
    private let thread = BlockingExecutor(threads: 1, name: "chromium")

    static var executable: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    init(executable: String) throws {
        folder = NSTemporaryDirectory() + "recon-chromium-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let input = folder + "/to-chrome"
        let output = folder + "/from-chrome"
        guard mkfifo(input, 0o600) == 0, mkfifo(output, 0o600) == 0 else {
            throw Failure(description: "mkfifo in \(folder): errno \(errno)")
        }
        // Read-write on our side: opening a FIFO so never waits for the other end.
        toChrome = open(input, O_RDWR | O_CLOEXEC)
        fromChrome = open(output, O_RDWR | O_CLOEXEC)
        guard toChrome >= 0, fromChrome >= 0 else { throw Failure(description: "open FIFOs: errno \(errno)") }
        logPath = folder + "/chromium.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments =
            ["-c", "exec \"$0\" \"$@\" 3<\(input) 4>\(output)", executable]
            + [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-sync", "--remote-debugging-pipe", "--user-data-dir=\(folder)/profile",
                "--window-size=1280,900", "--hide-scrollbars", "about:blank",
            ]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        close(toChrome)
        close(fromChrome)
        thread.shutdown()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs blocking calls on this browser's own thread.
    func run<T: Sendable>(_ body: @escaping @Sendable (HeadlessChromium) throws -> T) async throws -> T {
        try await thread.run { try body(self) }
    }

    // MARK: The protocol

    /// Sends a command (to the page's session unless `browser`) and waits for its answer,
    /// skipping events.
    @discardableResult
    func call(_ method: String, _ parameters: [String: Any] = [:], browser: Bool = false, timeout: TimeInterval = 30)
        throws -> [String: Any]
    {
        let id = nextID
        nextID += 1
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if !browser, let sessionID { message["sessionId"] = sessionID }
        var bytes = Array(try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(toChrome, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure(description: "\(method): write to Chromium failed, errno \(errno)") }
            written += count
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let answer = try readMessage(until: deadline, waitingFor: method)
            guard answer["id"] as? Int == id else { continue }
            if let error = answer["error"] as? [String: Any] {
                throw Failure(description: "\(method): \(error["message"] ?? error)")
            }
            return answer["result"] as? [String: Any] ?? [:]
        }
    }

    private func readMessage(until deadline: Date, waitingFor method: String) throws -> [String: Any] {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let data = Data(pending[..<end])
                pending.removeSubrange(...end)
                return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            }
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            guard left > 0, process.isRunning else {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw Failure(
                    description: "\(method): no answer from Chromium"
                        + (process.isRunning ? " in time" : " (it exited)") + "; its log: \(log.suffix(2000))")
            }
            var poller = pollfd(fd: fromChrome, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, min(left, 500)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(fromChrome, $0.baseAddress, $0.count) }
            if count > 0 { pending += chunk[..<count] }
        }
    }

    // MARK: A page

    /// Opens a tab and attaches to it; later calls go to it.
    func openTab() throws {
        let target = try call("Target.createTarget", ["url": "about:blank"], browser: true)
        guard let targetID = target["targetId"] as? String else { throw Failure(description: "no targetId: \(target)") }
        let attached = try call(
            "Target.attachToTarget", ["targetId": targetID, "flatten": true], browser: true)
        guard let session = attached["sessionId"] as? String else { throw Failure(description: "no sessionId") }
        sessionID = session
        try call("Page.enable")
        try call(
            "Emulation.setDeviceMetricsOverride",
            ["width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false])
    }

    /// The value of a JavaScript expression in the page (the test's own probe: the pages run none).
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        if let exception = result["exceptionDetails"] as? [String: Any] {
            throw Failure(description: "\(expression): \(exception["text"] ?? exception)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    func string(_ expression: String) throws -> String {
        guard let value = try evaluate(expression) as? String else {
            throw Failure(description: "\(expression) is not a string")
        }
        return value
    }

    /// Does `action` (a navigation, a form's submit) and waits until a new document has loaded.
    func loadingNewPage(timeout: TimeInterval = 30, _ action: () throws -> Void) throws {
        _ = try evaluate("window.__reconOldDocument = true")
        try action()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let ready = try? evaluate(
                "window.__reconOldDocument === undefined && document.readyState === 'complete'") as? Bool, ready
            {
                return
            }
            usleep(50_000)
        }
        throw Failure(description: "no new page loaded within \(timeout) s")
    }

    func navigate(_ url: String) throws {
        try loadingNewPage { try call("Page.navigate", ["url": url]) }
    }

    /// Clicks the element (a submit button: the browser sends the form as a person's click does).
    func click(_ selector: String) throws {
        try loadingNewPage {
            _ = try evaluate("document.querySelector(\(Self.quoted(selector))).click()")
        }
    }

    func fill(_ selector: String, _ value: String) throws {
        _ = try evaluate("document.querySelector(\(Self.quoted(selector))).value = \(Self.quoted(value))")
    }

    func int(_ expression: String) throws -> Int {
        guard let value = try evaluate(expression) as? Int else {
            throw Failure(description: "\(expression) is no integer")
        }
        return value
    }

    func bool(_ expression: String) throws -> Bool {
        guard let value = try evaluate(expression) as? Bool else {
            throw Failure(description: "\(expression) is no boolean")
        }
        return value
    }

    var location: String { (try? string("location.href")) ?? "" }

    struct Cookie: Sendable {
        var name: String
        var value: String
        var httpOnly: Bool
        var sameSite: String?
    }

    /// Every cookie the browser holds, with its flags (HttpOnly ones too).
    func cookies() throws -> [Cookie] {
        let all = try call("Storage.getCookies", browser: true)["cookies"] as? [[String: Any]] ?? []
        return all.map {
            Cookie(
                name: $0["name"] as? String ?? "", value: $0["value"] as? String ?? "",
                httpOnly: $0["httpOnly"] as? Bool ?? false, sameSite: $0["sameSite"] as? String)
        }
    }

    /// The whole page as a PNG.
    func screenshot(to path: String) throws {
        let metrics = try call("Page.getLayoutMetrics")
        let size = metrics["cssContentSize"] as? [String: Any] ?? [:]
        let width = (size["width"] as? Double) ?? 1280
        let height = min((size["height"] as? Double) ?? 900, 8000)
        let shot = try call(
            "Page.captureScreenshot",
            [
                "format": "png", "captureBeyondViewport": true,
                "clip": ["x": 0, "y": 0, "width": width, "height": height, "scale": 1],
            ])
        guard let base64 = shot["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot data")
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    func quit() {
        _ = try? call("Browser.close", browser: true, timeout: 5)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// A JavaScript string literal.
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
