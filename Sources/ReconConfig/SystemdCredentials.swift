public import Foundation

/// systemd's credentials: a unit's `LoadCredential=NAME:/path` makes the file readable, to this
/// service only, at `$CREDENTIALS_DIRECTORY/NAME`, so secrets need not sit in an environment file
/// that every process of the service inherits. Errors name the credential, never its value.
public enum SystemdCredentials {
    public static let directoryVariable = "CREDENTIALS_DIRECTORY"

    /// A name systemd accepts for `LoadCredential=`: a file name, no slash, not `.` or `..`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
            && name.utf8.count <= 255
    }

    /// The credential's text, trimmed of surrounding whitespace (files usually end in a newline).
    public static func read(_ name: String, environment: [String: String]) throws(CredentialError) -> String {
        guard isValidName(name) else { throw CredentialError("`\(name)` is not a credential name") }
        guard let directory = environment[directoryVariable], !directory.isEmpty else {
            throw CredentialError(
                "credential \(name): $\(directoryVariable) is not set (give the unit LoadCredential=\(name):PATH)")
        }
        let path = (directory as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialError(
                "credential \(name): cannot read \(path) (is LoadCredential=\(name):PATH in the unit?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CredentialError("credential \(name): \(path) is not UTF-8 text")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw CredentialError("credential \(name): \(path) is empty") }
        return trimmed
    }

    /// A daemon setting that is a secret: the environment variable when set, else the credential
    /// of that name when systemd passed credentials, else nil (the caller says what is missing).
    public static func setting(
        variable: String, credential: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CredentialError) -> String? {
        if let value = environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            return value
        }
        guard environment[directoryVariable].map({ !$0.isEmpty }) == true else { return nil }
        // A service given credentials but not this one falls through to "missing", like an unset variable.
        let path = ((environment[directoryVariable] ?? "") as NSString).appendingPathComponent(credential)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try read(credential, environment: environment)
    }
}

/// A credential that cannot be read: which one, and why; never its value.
public struct CredentialError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
