import ArgumentParser
import Foundation
import ReconConfig

/// The API token shared by coordinators and workers: from `--token-file`, else `RECON_API_TOKEN`,
/// else the systemd credential `api-token`. Never printed; errors name the place, never the value.
struct TokenOptions: ParsableArguments {
    @Option(
        name: .customLong("token-file"),
        help: "File holding the API bearer token (default: $RECON_API_TOKEN, or the credential api-token)")
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
        let token: String?
        do {
            token = try SystemdCredentials.setting(variable: "RECON_API_TOKEN", credential: "api-token")
        } catch {
            throw ValidationError("\(error)")
        }
        if let token {
            guard token.count >= 16 else {
                throw ValidationError(
                    "the API token (RECON_API_TOKEN or credential api-token) is shorter than 16 characters")
            }
            return token
        }
        throw ValidationError(
            "no API token: pass --token-file, set RECON_API_TOKEN, or give the unit LoadCredential=api-token:PATH")
    }
}
