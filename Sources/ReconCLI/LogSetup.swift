import ArgumentParser
import Foundation
import Logging
import ReconLogging
import ReconMetrics

/// `LogFormat`'s values for the parser (a conformance of ReconLogging's public type would have to
/// be public, and ArgumentParser is imported here internally).
enum LogFormatArgument: String, ExpressibleByArgument, CaseIterable {
    case logfmt, json
}

/// `--log-format logfmt|json` on the daemons. The value is read before the command line is parsed
/// (`LogSetup.bootstrap`), since logging is set up once, before anything logs; this option is
/// here so that the parser accepts it, checks it and lists it in `--help`.
struct LogFormatOptions: ParsableArguments {
    @Option(
        name: .customLong("log-format"),
        help: "Log lines on stderr as logfmt or json, one per event (default: $RECON_LOG_FORMAT, else logfmt).")
    var logFormat: LogFormatArgument?
}

/// Logging and metrics, set up once per process by the entry point.
public enum LogSetup {
    /// Logs to stderr in the format `--log-format` (or RECON_LOG_FORMAT) names, at RECON_LOG_LEVEL
    /// (trace … critical, default info), and sends swift-metrics to the Prometheus registry.
    public static func bootstrap() {
        bootstrap(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
    }

    static func bootstrap(arguments: [String], environment: [String: String]) {
        let level = environment["RECON_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let format =
            formatArgument(arguments).flatMap(LogFormat.init(rawValue:))
            ?? environment["RECON_LOG_FORMAT"].flatMap(LogFormat.init(rawValue:)) ?? .logfmt
        let secrets = knownSecrets(arguments: arguments, environment: environment)
        LoggingSystem.bootstrap { label in
            ReconLogHandler(label: label, format: format, level: level, redacting: secrets)
        }
        ReconMetrics.bootstrap()
    }

    /// The value after `--log-format` (or in `--log-format=json`), if any.
    static func formatArgument(_ arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return nil }
            if argument == "--log-format", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--log-format=") { return String(argument.dropFirst("--log-format=".count)) }
        }
        return nil
    }

    /// The secrets this process can see from its start: the API token and the database password,
    /// for the log handler to blank out should one ever reach a line.
    static func knownSecrets(arguments: [String], environment: [String: String]) -> [String] {
        var secrets: [String] = []
        if let token = environment["RECON_API_TOKEN"], !token.isEmpty { secrets.append(token) }
        var urls = environment["RECON_DATABASE_URL"].map { [$0] } ?? []
        for (index, argument) in arguments.enumerated() {
            if argument == "--database-url", index + 1 < arguments.count { urls.append(arguments[index + 1]) }
            if argument.hasPrefix("--database-url=") {
                urls.append(String(argument.dropFirst("--database-url=".count)))
            }
        }
        secrets += urls.compactMap(databasePassword)
        return secrets
    }

    /// The password in `postgresql://user:password@host/db` or in `… password=secret …`.
    static func databasePassword(_ url: String) -> String? {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: url) else { return nil }
            if let password = components.password, !password.isEmpty { return password }
            return components.queryItems?.first { $0.name == "password" }?.value
        }
        for pair in url.split(separator: " ") where pair.hasPrefix("password=") {
            var value = pair.dropFirst("password=".count)
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }
}
