/// Where a secret lives, never the secret itself: job files are read by people, copied into
/// tickets and committed, so a key written inline would leak. `{ file = "/etc/recon/alipay.pem" }`
/// or `{ env = "RECON_ALIPAY_KEY" }`, or `{ credential = "alipay-private-key" }`: a systemd credential
/// (`LoadCredential=alipay-private-key:/etc/recon/credentials/alipay.pem`), read under
/// `$CREDENTIALS_DIRECTORY` (see `SystemdCredentials`).
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case environment(String)
    case credential(String)

    /// Safe to log: names the place, not the value.
    public var description: String {
        switch self {
        case .file(let path): return "file \(path)"
        case .environment(let name): return "environment variable \(name)"
        case .credential(let name): return "credential \(name)"
        }
    }

    /// Reads `key` of `reader` as a reference table; a plain string there is refused, because it
    /// can only be the secret itself. The message never repeats the value.
    static func read(_ reader: TOMLTableReader, _ key: String) throws(TOMLError) -> SecretReference? {
        guard let node = reader.node(key) else { return nil }
        guard case .table = node.value else {
            throw reader.error(
                at: key,
                "`\(reader.keyPath(key))` must be a reference, { file = \"/path\" }, { env = \"NAME\" } or "
                    + "{ credential = \"NAME\" }, never the secret itself")
        }
        let table = try reader.table(key)
        let file = try table.optionalString("file")
        let environment = try table.optionalString("env")
        let credential = try table.optionalString("credential")
        try table.finish()
        switch (file, environment, credential) {
        case (let path?, nil, nil):
            guard path.hasPrefix("/") else {
                throw table.error(at: "file", "`\(table.keyPath("file"))` must be an absolute path")
            }
            return .file(path)
        case (nil, let name?, nil):
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw table.error(at: "env", "`\(table.keyPath("env"))` must be an environment variable's name")
            }
            return .environment(name)
        case (nil, nil, let name?):
            guard SystemdCredentials.isValidName(name) else {
                throw table.error(
                    at: "credential", "`\(table.keyPath("credential"))` must be a credential's name (no `/`)")
            }
            return .credential(name)
        default:
            throw reader.error(
                at: key, "`\(reader.keyPath(key))` needs exactly one of `file`, `env` or `credential`")
        }
    }
}
