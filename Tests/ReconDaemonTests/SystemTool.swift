import Foundation

/// Runs a system tool (mount, ip) for a trial's setup, its output discarded; returns its exit
/// status, or -1 when it cannot be started (not installed).
func runSystemTool(_ path: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}
