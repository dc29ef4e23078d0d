import ArgumentParser
import Foundation
import Logging
import ReconCLI

/// The process entry point: set up logging once, parse the command line, run the subcommand.
@main
struct ReconMain {
    static func main() async {
        // Logs go to stderr; RECON_LOG_LEVEL picks the level (trace … critical, default info).
        let level =
            ProcessInfo.processInfo.environment["RECON_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        do {
            var command = try ReconCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            ReconCommand.exit(withError: error)
        }
    }
}
