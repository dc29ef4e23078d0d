import Foundation
import ReconBlocking
import ReconConfig
import ReconCore
import SwiftASN1
import X509
import _CryptoExtras

/// Checks UnionPay's answers as its SDK does (CHANNELS.md §3.1): the `signPubKeyCert` that comes
/// with each answer must chain to the configured root through the middle certificate (RFC 5280,
/// at the current time), its CN must name UnionPay, and its key must verify `signature` over the
/// answer's fields. Refusals name the check; they quote the answer's certificate name, never a key.
struct UnionPayAnswerVerifier: Sendable {
    /// The third `@`-separated part of the signing certificate's CN, as the SDK compares it
    /// (`041@…@中国银联股份有限公司@…`).
    static let organisation = "中国银联股份有限公司"

    enum Check: String, Sendable {
        case certificate = "signPubKeyCert"
        case chain
        case commonName = "CN"
        case signature
    }

    struct Refusal: Error, CustomStringConvertible {
        var check: Check
        var reason: String
        var description: String { "the \(check.rawValue) check failed: \(reason)" }
    }

    private let root: Certificate
    private let middle: Certificate?

    /// `source` names where a certificate came from, for the error when it does not parse.
    init(rootPEM: String, rootSource: String, middlePEM: String?, middleSource: String) throws {
        root = try Self.configured(rootPEM, source: rootSource)
        middle = try middlePEM.map { try Self.configured($0, source: middleSource) }
    }

    /// The verifier a channel's options ask for; nil without `root_cert` (answers not verified).
    static func configured(
        _ options: UnionPayOptions, secrets: SecretResolver, channel: String
    ) throws -> UnionPayAnswerVerifier? {
        guard let root = options.rootCertificate else { return nil }
        let middle = options.middleCertificate
        return try UnionPayAnswerVerifier(
            rootPEM: try secrets.resolve(root, for: channel), rootSource: "root_cert (\(root))",
            middlePEM: try middle.map { try secrets.resolve($0, for: channel) },
            middleSource: "middle_cert (\(middle?.description ?? "-"))")
    }

    /// Checks an answer `UnionPayResponse.read` took from `path`. The signed text is hashed from the
    /// file again (fileContent may be hundreds of MB), on a thread of our own.
    func verify(_ response: UnionPayResponse, answerFile path: String) async throws {
        let key = try await signingKey(response.fields["signPubKeyCert"])
        guard let signature = response.fields["signature"], !signature.isEmpty else {
            throw Refusal(check: .signature, reason: "the answer carries no signature")
        }
        let valid = try await BlockingExecutor.shared.run {
            RSAVerifier(key: key).isValid(signature: signature, for: try response.signedTextDigest(answerFile: path))
        }
        guard valid else {
            throw Refusal(
                check: .signature,
                reason: "the signature does not verify over the answer's fields with signPubKeyCert's key")
        }
    }

    /// The signing certificate's RSA key, once its chain and CN pass.
    func signingKey(_ pem: String?) async throws(Refusal) -> _RSA.Signing.PublicKey {
        guard let pem, !pem.isEmpty else {
            throw Refusal(check: .certificate, reason: "the answer carries no signPubKeyCert")
        }
        guard let leaf = try? Certificate(pemEncoded: pem.replacingOccurrences(of: "\r\n", with: "\n")) else {
            throw Refusal(check: .certificate, reason: "signPubKeyCert is not a PEM certificate")
        }
        let name = Self.commonName(leaf) ?? "-"
        var verifier = Verifier(rootCertificates: CertificateStore([root])) { RFC5280Policy() }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(middle.map { [$0] } ?? []))
        guard case .validCertificate = result else {
            throw Refusal(
                check: .chain, reason: "signPubKeyCert (CN \(name)) is not trusted: \(Self.whyUntrusted(result))")
        }
        // Tolerant of any CN shape: too few parts is a refusal, never an out-of-range read.
        let parts = name.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[2] == Self.organisation else {
            throw Refusal(
                check: .commonName,
                reason: "signPubKeyCert's CN \(name) does not name \(Self.organisation) as its third '@'-separated part"
            )
        }
        guard let key = _RSA.Signing.PublicKey(leaf.publicKey) else {
            throw Refusal(check: .certificate, reason: "signPubKeyCert (CN \(name)) does not hold an RSA key")
        }
        return key
    }

    /// In words, short: the library's own reasons quote whole certificates.
    private static func whyUntrusted(_ result: CertificateValidationResult) -> String {
        guard case .couldNotValidate(let failures) = result, let chain = failures.first?.chain else {
            return "no path from it to the configured root through the middle certificate"
        }
        let now = Date()
        for certificate in chain {
            let name = commonName(certificate) ?? "a certificate"
            if now > certificate.notValidAfter { return "\(name) in its chain expired on \(certificate.notValidAfter)" }
            if now < certificate.notValidBefore {
                return "\(name) in its chain is not valid before \(certificate.notValidBefore)"
            }
        }
        return "its path to the root breaks RFC 5280 (version, basic constraints or name constraints)"
    }

    static func commonName(_ certificate: Certificate) -> String? {
        for relative in certificate.subject {
            for attribute in relative where attribute.type == .RDNAttributeType.commonName {
                return String(attribute.value)
            }
        }
        return nil
    }

    private static func configured(_ pem: String, source: String) throws -> Certificate {
        do {
            return try Certificate(pemEncoded: pem.replacingOccurrences(of: "\r\n", with: "\n"))
        } catch {
            throw ChannelError.permanent("the certificate in \(source) is not an X.509 certificate in PEM form")
        }
    }
}
