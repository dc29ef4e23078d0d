import ArgumentParser
import Foundation

/// Where the database is: `--database-url`, else `RECON_DATABASE_URL`. Either a libpq connection
/// string or a `postgresql://` URI. It may hold a password, so it is never printed.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: "libpq connection string or postgresql:// URI (default: $RECON_DATABASE_URL)")
    var databaseURL: String?

    func validate() throws { _ = try resolved() }

    func resolved() throws -> String {
        if let databaseURL, !databaseURL.isEmpty { return databaseURL }
        if let fromEnvironment = ProcessInfo.processInfo.environment["RECON_DATABASE_URL"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        throw ValidationError("no database given: pass --database-url or set RECON_DATABASE_URL")
    }
}
