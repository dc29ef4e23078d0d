import ArgumentParser
import Foundation
import ReconConfig

/// Where the database is: `--database-url`, else `RECON_DATABASE_URL`, else the systemd credential
/// `database-url` (`$CREDENTIALS_DIRECTORY/database-url`). Either a libpq connection
/// string or a `postgresql://` URI. It may hold a password, so it is never printed.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help:
            "libpq connection string or postgresql:// URI (default: $RECON_DATABASE_URL, or the credential database-url)"
    )
    var databaseURL: String?

    func validate() throws { _ = try resolved() }

    func resolved() throws -> String {
        if let databaseURL, !databaseURL.isEmpty { return databaseURL }
        // The URL may carry a password: under systemd it comes as the credential `database-url`.
        let fromEnvironment: String?
        do {
            fromEnvironment = try SystemdCredentials.setting(variable: "RECON_DATABASE_URL", credential: "database-url")
        } catch {
            throw ValidationError("\(error)")
        }
        if let fromEnvironment { return fromEnvironment }
        throw ValidationError(
            "no database given: pass --database-url, set RECON_DATABASE_URL, or give the unit "
                + "LoadCredential=database-url:PATH")
    }
}
