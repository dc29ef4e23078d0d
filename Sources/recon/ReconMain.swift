import ArgumentParser
import Foundation
import Logging
import ReconCLI

/// The process entry point: set up logging once, parse the command line, run the subcommand.
@main
struct ReconMain {
    static func main() async {
        // Logs go to stderr, logfmt or JSON; RECON_LOG_LEVEL picks the level. Metrics to Prometheus.
        LogSetup.bootstrap()
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
