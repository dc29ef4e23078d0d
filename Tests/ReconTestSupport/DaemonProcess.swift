public import Foundation

/// A `recon` daemon started by a test: its output goes to a file the test can poll, and it is
/// killed when the test is done with it (or when this object goes away).
public final class DaemonProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init; Foundation's Process is thread-safe for
    // terminate/processIdentifier/isRunning, which is all that is called afterwards.
    public let process: Process
    public let outputPath: String
    public let name: String

    /// `launcher`, when given, runs `recon` (e.g. `ip netns exec NAME`): the launcher must exec it
    /// in its own process, so that signals sent to this process reach `recon`.
    public init(name: String, arguments: [String], environment: [String: String] = [:], launcher: [String] = [])
        throws
    {
        self.name = name
        outputPath = NSTemporaryDirectory() + "recon-\(name)-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: launcher.first ?? BuiltProducts.recon)
        process.arguments = launcher.isEmpty ? arguments : launcher.dropFirst() + [BuiltProducts.recon] + arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? output.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: outputPath)
    }

    public var pid: Int32 { process.processIdentifier }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits until the output has a line containing `text`; returns that line.
    public func waitForLine(containing text: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DaemonError("\(name) printed no line with '\(text)'; its output:\n\(output.suffix(3000))")
    }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit and returns its status.
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw DaemonError("\(name) did not exit in time; its output:\n\(output.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }
}

public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or the time runs out.
public func eventually(
    _ what: String, timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw DaemonError("timed out waiting for: \(what)")
}

/// Runs the built `recon` with `arguments` to its end; returns its exit status and everything it
/// printed (stdout and stderr together).
public func runRecon(_ arguments: [String], environment: [String: String] = [:], input: Data? = nil) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: BuiltProducts.recon)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let stdin = Pipe()
    if input != nil { process.standardInput = stdin }
    try process.run()
    if let input {
        // Written from a thread of its own, so a large input cannot fill both pipes at once.
        let writer = stdin.fileHandleForWriting
        Thread.detachNewThread {
            try? writer.write(contentsOf: input)
            try? writer.close()
        }
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
