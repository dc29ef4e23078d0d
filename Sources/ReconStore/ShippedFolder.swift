import Foundation

/// A folder of files shipped with the binary (the migrations, the dashboard's templates): where
/// an environment variable says, the resource folder SwiftPM puts next to the executable, or a
/// system-wide install (`scripts/install` puts them in PREFIX/share/recon). Looked up by hand
/// because `Bundle.module` traps when the folder is missing, and a daemon must fail with a message.
public enum ShippedFolder {
    /// - Parameters:
    ///   - environment: the variable that names the folder outright.
    ///   - bundle: SwiftPM's resource bundle and the folder inside it, as `Recon_ReconStore.resources/Migrations`.
    ///   - share: its name under `share/recon`.
    public static func find(environment: String, bundle: String, share: String) throws -> String {
        var candidates: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment[environment] {
            candidates.append(fromEnvironment)
        }
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first ?? ""
        let executableDirectory = (executable as NSString).deletingLastPathComponent
        candidates.append(executableDirectory + "/" + bundle)
        candidates.append(executableDirectory + "/../share/recon/" + share)
        candidates.append("/usr/local/share/recon/" + share)
        candidates.append("/usr/share/recon/" + share)
        var isDirectory: ObjCBool = false
        for candidate in candidates
        where FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) && isDirectory.boolValue {
            return candidate
        }
        throw Missing(
            description: "no \(share) folder found; looked in " + candidates.joined(separator: ", ")
                + " (set \(environment) to the folder)")
    }

    public struct Missing: Error, CustomStringConvertible, Sendable {
        public var description: String
    }
}
