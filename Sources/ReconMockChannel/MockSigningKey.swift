import Crypto
import Foundation
import _CryptoExtras

/// The key the mock signs its answers with, standing in for a channel's platform key. Made at
/// first start and kept in the data folder, with its public half beside it for Recon's config.
struct MockSigningKey: Sendable {
    let key: _RSA.Signing.PrivateKey

    init(folder: String, name: String) throws {
        let path = "\(folder)/\(name)_private_key.pem"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let pem = try? String(contentsOfFile: path, encoding: .utf8) {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } else {
            key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
        }
        try key.publicKey.pemRepresentation.write(
            toFile: "\(folder)/\(name)_public_key.pem", atomically: true, encoding: .utf8)
    }

    /// base64(SHA256withRSA(text)).
    func sign(_ text: String) throws -> String {
        try key.signature(for: SHA256.hash(data: Data(text.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation
            .base64EncodedString()
    }

    /// Checks a merchant's signature with its public key (PEM), if the mock was given one.
    static func verify(signature: String, of text: String, publicKeyPEM: String) -> Bool {
        guard let key = try? _RSA.Signing.PublicKey(pemRepresentation: publicKeyPEM),
            let raw = Data(base64Encoded: signature)
        else { return false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: raw), for: SHA256.hash(data: Data(text.utf8)),
            padding: .insecurePKCS1v1_5)
    }
}
