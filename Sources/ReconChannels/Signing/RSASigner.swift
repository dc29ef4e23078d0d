import Crypto
import Foundation
import _CryptoExtras

/// SHA256withRSA (PKCS #1 v1.5), the signature every channel here uses: Alipay's RSA2, WeChat
/// Pay v3's Authorization and UnionPay 5.1.0. Keys come from PEM text a secret reference points
/// to; an unreadable key is a configuration error that names the reference, never the key.
public struct RSASigner: Sendable {
    private let key: _RSA.Signing.PrivateKey

    public init(pem: String, describedAs reference: String) throws {
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw ChannelError.permanent("the private key in \(reference) is not an RSA private key in PEM form")
        }
    }

    /// base64(SHA256withRSA(text)).
    public func sign(_ text: String) throws -> String {
        let digest = SHA256.hash(data: Data(text.utf8))
        return try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
    }
}

/// Checks SHA256withRSA signatures with a channel's public key (PEM).
public struct RSAVerifier: Sendable {
    private let key: _RSA.Signing.PublicKey

    public init(pem: String, describedAs reference: String) throws {
        do {
            key = try _RSA.Signing.PublicKey(pemRepresentation: pem)
        } catch {
            throw ChannelError.permanent("the public key in \(reference) is not an RSA public key in PEM form")
        }
    }

    /// A key taken from a certificate that was checked already.
    init(key: _RSA.Signing.PublicKey) {
        self.key = key
    }

    public func isValid(signature base64: String, for text: String) -> Bool {
        guard let raw = Data(base64Encoded: base64) else { return false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: raw), for: SHA256.hash(data: Data(text.utf8)),
            padding: .insecurePKCS1v1_5)
    }
}
