import ArgumentParser
import Foundation

/// The API token shared by coordinators and workers: from `--token-file`, else `RECON_API_TOKEN`.
/// Never printed; errors name the file or the variable, never the value.
struct TokenOptions: ParsableArguments {
    @Option(name: .customLong("token-file"), help: "File holding the API bearer token (default: $RECON_API_TOKEN)")
    var tokenFile: String?

    func validate() throws { _ = try resolved() }

    func resolved() throws -> String {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ValidationError("cannot read the token file \(tokenFile)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.count >= 16 else {
                throw ValidationError("the token in \(tokenFile) is shorter than 16 characters")
            }
            return token
        }
        if let token = ProcessInfo.processInfo.environment["RECON_API_TOKEN"]?
            .trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        {
            guard token.count >= 16 else { throw ValidationError("RECON_API_TOKEN is shorter than 16 characters") }
            return token
        }
        throw ValidationError("no API token: pass --token-file or set RECON_API_TOKEN")
    }
}
