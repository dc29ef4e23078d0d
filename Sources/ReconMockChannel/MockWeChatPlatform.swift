import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// WeChat Pay's platform identity in the mock (CHANNELS.md §2.1): the key its answers are signed
/// with (`<data>/wechatpay/platform_private_key.pem`, kept across starts, public half beside it),
/// and the two names a merchant may know it by. A platform certificate for that key
/// (`platform_certificate.pem`, kept too; issued anew, with the same serial, when missing, for
/// another key or expiring), whose serial in hex is what `Wechatpay-Serial` carries in
/// certificate mode; and a public key id (`PUB_KEY_ID_…`, in `platform_public_key_id`) for
/// merchants on WeChat Pay's public key.
struct MockWeChatPlatform: Sendable {
    let key: MockSigningKey
    let certificatePEM: String
    /// Uppercase hex of the certificate's serial number, as WeChat Pay writes serials.
    let serial: String
    let publicKeyID: String
    let notValidBefore: Date
    let notValidAfter: Date

    init(folder: String) throws {
        key = try MockSigningKey(folder: folder, name: "platform")
        let spki = Array(key.key.publicKey.derRepresentation)
        var serialBytes = Array(Insecure.SHA1.hash(data: spki))
        // Positive, and 20 bytes long with no leading zero, so the hex is always 40 digits.
        serialBytes[0] = serialBytes[0] & 0x7F | 0x40
        serial = serialBytes.map { String(format: "%02X", $0) }.joined()
        publicKeyID =
            "PUB_KEY_ID_" + SHA256.hash(data: spki).prefix(16).map { String(format: "%02X", $0) }.joined()
        let path = "\(folder)/platform_certificate.pem"
        if let pem = try? String(contentsOfFile: path, encoding: .utf8),
            let kept = try? Certificate(pemEncoded: pem),
            kept.publicKey == Certificate.PublicKey(key.key.publicKey),
            kept.serialNumber.bytes.elementsEqual(serialBytes),
            kept.notValidAfter > Date() + 30 * 86_400
        {
            certificatePEM = pem
            notValidBefore = kept.notValidBefore
            notValidAfter = kept.notValidAfter
        } else {
            notValidBefore = Date() - 86_400
            notValidAfter = Date() + 5 * 365 * 86_400
            let name = try DistinguishedName {
                CountryName("CN")
                OrganizationName("Recon mock")
                OrganizationalUnitName("Recon mock WeChat Pay CA Center")
                CommonName("Recon mock WeChat Pay platform")
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(bytes: serialBytes), publicKey: .init(key.key.publicKey),
                notValidBefore: notValidBefore, notValidAfter: notValidAfter, issuer: name, subject: name,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
                },
                issuerPrivateKey: .init(key.key))
            certificatePEM = try certificate.serializeAsPEM().pemString
            try certificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
        }
        try (publicKeyID + "\n").write(
            toFile: "\(folder)/platform_public_key_id", atomically: true, encoding: .utf8)
    }

    /// `/v3/certificates`' `encrypt_certificate`: the certificate's PEM sealed with AEAD_AES_256_GCM
    /// under the merchant's APIv3 key (32 bytes), a 12-character nonce and `certificate` as the
    /// associated data; the ciphertext is base64 of the sealed bytes followed by the tag.
    func encryptedCertificate(apiV3Key: String) throws -> (nonce: String, ciphertext: String) {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let nonce = String((0..<12).map { _ in letters[Int(generator.next(upperBound: UInt(letters.count)))] })
        let sealed = try AES.GCM.seal(
            Data(certificatePEM.utf8), using: SymmetricKey(data: Data(apiV3Key.utf8)),
            nonce: try AES.GCM.Nonce(data: Data(nonce.utf8)), authenticating: Data("certificate".utf8))
        return (nonce, (sealed.ciphertext + sealed.tag).base64EncodedString())
    }
}
