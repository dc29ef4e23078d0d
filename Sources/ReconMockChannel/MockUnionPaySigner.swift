import Crypto
public import Foundation
import SwiftASN1
import X509
public import _CryptoExtras

/// UnionPay's side of answer signing (CHANNELS.md §3.1): a root CA, a middle CA and a signing
/// certificate (RSA 2048), and answers `k=v&…` carrying that certificate as `signPubKeyCert` and
/// `signature` = base64(SHA256withRSA(lowercase hex SHA-256 of the sorted fields but `signature`)).
/// Certificates are issued per instance (a test can ask for an expired one or another CN); keys
/// are made once per process, since RSA key generation takes seconds in a debug build.
public struct MockUnionPaySigner: Sendable {
    /// UnionPay's CN shape: the SDK checks that the third `@`-separated part is the company name.
    public static let commonName = "041@Z12@中国银联股份有限公司@00000001"

    public struct Keys: Sendable {
        public var root: _RSA.Signing.PrivateKey
        public var middle: _RSA.Signing.PrivateKey
        public var signing: _RSA.Signing.PrivateKey

        public init(root: _RSA.Signing.PrivateKey, middle: _RSA.Signing.PrivateKey, signing: _RSA.Signing.PrivateKey) {
            self.root = root
            self.middle = middle
            self.signing = signing
        }

        /// This process's keys, made on first use.
        public static func shared() throws -> Keys { try made.get() }

        private static let made = Result {
            Keys(
                root: try _RSA.Signing.PrivateKey(keySize: .bits2048),
                middle: try _RSA.Signing.PrivateKey(keySize: .bits2048),
                signing: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }

    public let rootPEM: String
    public let middlePEM: String
    public let certificatePEM: String
    /// Different for every instance: cached answers are named by it, so none outlives its certificate.
    public let tag = String(UUID().uuidString.prefix(8)).lowercased()
    private let key: _RSA.Signing.PrivateKey

    public init(
        keys: Keys, commonName: String = Self.commonName, notValidBefore: Date = Date() - 86_400,
        notValidAfter: Date = Date() + 365 * 86_400
    ) throws {
        let rootName = try DistinguishedName {
            OrganizationName("Recon mock")
            CommonName("Recon mock UnionPay root CA")
        }
        let middleName = try DistinguishedName {
            OrganizationName("Recon mock")
            CommonName("Recon mock UnionPay middle CA")
        }
        let caExtensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        }
        let caLife = (Date() - 86_400, Date() + 3650 * 86_400)
        let root = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(keys.root.publicKey), notValidBefore: caLife.0,
            notValidAfter: caLife.1, issuer: rootName, subject: rootName, extensions: caExtensions,
            issuerPrivateKey: .init(keys.root))
        let middle = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(keys.middle.publicKey), notValidBefore: caLife.0,
            notValidAfter: caLife.1, issuer: rootName, subject: middleName, extensions: caExtensions,
            issuerPrivateKey: .init(keys.root))
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(keys.signing.publicKey),
            notValidBefore: notValidBefore,
            notValidAfter: notValidAfter, issuer: middleName,
            subject: try DistinguishedName {
                OrganizationName("Recon mock")
                CommonName(commonName)
            },
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
            },
            issuerPrivateKey: .init(keys.middle))
        rootPEM = try root.serializeAsPEM().pemString
        middlePEM = try middle.serializeAsPEM().pemString
        certificatePEM = try leaf.serializeAsPEM().pemString
        key = keys.signing
    }

    /// `unionpay-root.pem` and `unionpay-middle.pem` in `folder`, for a channel's `root_cert` and `middle_cert`.
    public func writeTrustFiles(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try rootPEM.write(toFile: "\(folder)/unionpay-root.pem", atomically: true, encoding: .utf8)
        try middlePEM.write(toFile: "\(folder)/unionpay-middle.pem", atomically: true, encoding: .utf8)
    }

    /// A short answer: `fields` in the order given, then `signPubKeyCert` and `signature`.
    /// `badSignature` flips a bit of the signature, as a tampered answer would fail.
    public func answer(_ fields: KeyValuePairs<String, String>, badSignature: Bool = false) throws -> String {
        let pairs = fields.map { ($0.key, $0.value) }
        let signature = try sign(pairs, fileContent: nil, badSignature: badSignature)
        return (pairs + [("signPubKeyCert", certificatePEM), ("signature", signature)]).map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// An answer written to `path`: `fields` in the order given, `fileContent` streamed from a file
    /// of its (base64) text, then `signPubKeyCert` and `signature`. The file is read twice, never held.
    public func writeAnswer(
        to path: String, fields: [(String, String)], fileContent: String, badSignature: Bool = false
    ) throws {
        let signature = try sign(fields, fileContent: fileContent, badSignature: badSignature)
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let output = FileHandle(forWritingAtPath: path)
        else {
            throw CocoaError(.fileWriteUnknown)
        }
        defer { try? output.close() }
        try output.write(
            contentsOf: Data((fields.map { "\($0.0)=\($0.1)" }.joined(separator: "&") + "&fileContent=").utf8))
        try MockDigest.forEachChunk(fileContent) { try output.write(contentsOf: $0) }
        try output.write(contentsOf: Data("&signPubKeyCert=\(certificatePEM)&signature=\(signature)".utf8))
    }

    /// Signs the sorted `k=v&…` of the fields, `signPubKeyCert`, and `fileContent` read from its file.
    private func sign(_ fields: [(String, String)], fileContent: String?, badSignature: Bool) throws -> String {
        var signed: [(String, String?)] = fields.map { ($0.0, $0.1) } + [("signPubKeyCert", certificatePEM)]
        if fileContent != nil { signed.append(("fileContent", nil)) }
        signed.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        var hasher = SHA256()
        for (position, (name, value)) in signed.enumerated() {
            hasher.update(data: Data(((position == 0 ? "" : "&") + name + "=").utf8))
            if let value {
                hasher.update(data: Data(value.utf8))
            } else if let fileContent {
                try MockDigest.forEachChunk(fileContent) { hasher.update(data: $0) }
            }
        }
        let digest = MockDigest.hex(hasher.finalize())
        var raw = Array(
            try key.signature(for: SHA256.hash(data: Data(digest.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation)
        if badSignature { raw[raw.count / 2] ^= 0x01 }
        return Data(raw).base64EncodedString()
    }
}
