import ArgumentParser
import ReconCLI

/// The process entry point: parse the command line, run the chosen subcommand (most are async).
@main
struct ReconMain {
    static func main() async {
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
