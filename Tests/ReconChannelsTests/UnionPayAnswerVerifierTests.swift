import Foundation
import ReconArchive
import ReconMockChannel
import Testing
import _CryptoExtras

@testable import ReconChannels
@testable import ReconConfig
@testable import ReconCore

/// UnionPay answers written and signed by the mock's signer (its own implementation of the
/// signing, checked against openssl when it was written), read by `UnionPayResponse` and checked
/// by `UnionPayAnswerVerifier`: the good one passes, and each kind of bad one names its check.
@Suite struct UnionPayAnswerVerifierTests {
    let folder = NSTemporaryDirectory() + "recon-unionpay-verify-\(UUID().uuidString)"
    static let fields = [
        ("respCode", "00"), ("respMsg", "成功"), ("merId", "802310048993424"), ("settleDate", "1101"), ("txnType", "76"),
        ("fileType", "00"), ("fileName", "802310048993424_20261101.zip"),
    ]
    /// Stands in for the ZIP: only base64 and zlib are checked while the answer is read.
    static let payload = Array((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 13) })

    init() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func signer(commonName: String = MockUnionPaySigner.commonName, expired: Bool = false) throws -> MockUnionPaySigner
    {
        guard expired else { return try MockUnionPaySigner(keys: .shared(), commonName: commonName) }
        return try MockUnionPaySigner(
            keys: .shared(), notValidBefore: Date() - 30 * 86_400, notValidAfter: Date() - 86_400)
    }

    func verifier(trusting signer: MockUnionPaySigner) throws -> UnionPayAnswerVerifier {
        try UnionPayAnswerVerifier(
            rootPEM: signer.rootPEM, rootSource: "test root", middlePEM: signer.middlePEM, middleSource: "test middle")
    }

    static func base64(_ payload: [UInt8]) throws -> String {
        Data(try Deflater.deflate(payload, format: .zlib)).base64EncodedString()
    }

    /// A signed answer file with `payload` zlib'd and base64'd as its fileContent.
    func answer(
        _ signer: MockUnionPaySigner, payload: [UInt8] = Self.payload, fields: [(String, String)] = Self.fields,
        name: String = UUID().uuidString
    ) throws -> String {
        let content = "\(folder)/\(name).b64"
        try Self.base64(payload).write(toFile: content, atomically: true, encoding: .utf8)
        let path = "\(folder)/\(name).txt"
        try signer.writeAnswer(to: path, fields: fields, fileContent: content)
        return path
    }

    /// Reads the answer at `path` as the adapter does and verifies it: nil when it passes.
    func refusal(_ path: String, _ verifier: UnionPayAnswerVerifier) async throws -> UnionPayAnswerVerifier.Refusal? {
        let response = try UnionPayResponse.read(
            path, zipTo: "\(folder)/bill.zip", maxBytes: 1 << 20, label: "test answer")
        do {
            try await verifier.verify(response, answerFile: path)
            return nil
        } catch let refusal as UnionPayAnswerVerifier.Refusal {
            return refusal
        }
    }

    func edit(_ path: String, _ from: String, _ to: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(from))
        try text.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func aSignedAnswerVerifiesAndItsFileDecodes() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let signer = try signer()
        let path = try answer(signer)
        #expect(try await refusal(path, verifier(trusting: signer)) == nil)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: "\(folder)/bill.zip"))) == Self.payload)
        // fileContent was found where it is in the file, not kept in memory.
        let response = try UnionPayResponse.read(
            path, zipTo: "\(folder)/again.zip", maxBytes: 1 << 20, label: "test answer")
        let range = try #require(response.fileContentBytes)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(
            String(decoding: bytes[Int(range.lowerBound)..<Int(range.upperBound)], as: UTF8.self)
                == (try Self.base64(Self.payload)))
        #expect(response.fields["fileContent"] == nil)
    }

    @Test func anotherFileUnderTheSignatureIsRefusedByTheSignatureCheck() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let signer = try signer()
        let verifier = try verifier(trusting: signer)
        // The same answer carrying a file one byte different: it decodes, only the signature tells.
        var changed = Self.payload
        changed[2500] ^= 0x20
        let path = try answer(signer)
        try edit(path, try Self.base64(Self.payload), try Self.base64(changed))
        #expect(try await refusal(path, verifier)?.check == .signature)
        // A line break inside fileContent decodes to the same file but is not what was signed.
        let wrapped = try answer(signer)
        let text = try Self.base64(Self.payload)
        try edit(wrapped, text, String(text.prefix(76)) + "\r\n" + text.dropFirst(76))
        #expect(try await refusal(wrapped, verifier)?.check == .signature)
    }

    @Test func aChangedRespCodeIsRefusedByTheSignatureCheck() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let signer = try signer()
        let path = try answer(signer)
        try edit(path, "respCode=00", "respCode=98")
        let refusal = try #require(try await refusal(path, verifier(trusting: signer)))
        #expect(refusal.check == .signature)
        #expect(refusal.description.contains("signature check failed"))
    }

    @Test func aCertificateFromAnotherCAIsRefusedByTheChainCheck() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The same names and signing key, issued by a root and middle of someone else's.
        let shared = try MockUnionPaySigner.Keys.shared()
        let stranger = try MockUnionPaySigner(
            keys: .init(
                root: try _RSA.Signing.PrivateKey(keySize: .bits2048),
                middle: try _RSA.Signing.PrivateKey(keySize: .bits2048),
                signing: shared.signing))
        let refusal = try #require(try await refusal(try answer(stranger), verifier(trusting: signer())))
        #expect(refusal.check == .chain)
        #expect(refusal.description.contains("041@Z12@中国银联股份有限公司@00000001"))
        #expect(!refusal.description.contains("PRIVATE KEY"))
    }

    @Test func anExpiredCertificateIsRefusedByTheChainCheck() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let expired = try signer(expired: true)
        let refusal = try #require(try await refusal(try answer(expired), verifier(trusting: expired)))
        #expect(refusal.check == .chain)
        #expect(refusal.reason.lowercased().contains("expired"), "\(refusal)")
    }

    @Test(arguments: [
        "041@Z12@00040000:SIGN@00000001",  // UnionPay's test environment names itself so
        "041@中国银联股份有限公司",  // too few parts: refused, not read past the end
        "中国银联股份有限公司",
    ])
    func aCertificateNotNamingUnionPayIsRefusedByTheCNCheck(_ commonName: String) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let other = try signer(commonName: commonName)
        let refusal = try #require(try await refusal(try answer(other), verifier(trusting: other)))
        #expect(refusal.check == .commonName)
        #expect(refusal.description.contains("CN check failed") && refusal.description.contains(commonName))
    }

    @Test func anErrorAnswerIsSignedTooAndATamperedOneIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let signer = try signer()
        let verifier = try verifier(trusting: signer)
        for (tampered, expected) in [(false, nil), (true, UnionPayAnswerVerifier.Check.signature)] {
            let path = "\(folder)/98-\(tampered).txt"
            try signer.answer(
                ["respCode": "98", "respMsg": "文件不存在", "merId": "802310048993424", "txnType": "76"],
                badSignature: tampered
            )
            .write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try await refusal(path, verifier)?.check == expected)
        }
        // Unsigned: no certificate to check the signature with.
        let unsigned = "\(folder)/unsigned.txt"
        try "respCode=98&respMsg=文件不存在&txnType=76".write(toFile: unsigned, atomically: true, encoding: .utf8)
        #expect(try await refusal(unsigned, verifier)?.check == .certificate)
    }

    @Test func aNinetyEightWhoseFileContentDoesNotDecodeIsStillReadWholeAndVerified() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let signer = try signer()
        let content = "\(folder)/odd.b64"
        try "not base64!".write(toFile: content, atomically: true, encoding: .utf8)
        let path = "\(folder)/odd.txt"
        try signer.writeAnswer(
            to: path, fields: [("respCode", "98"), ("respMsg", "文件不存在"), ("txnType", "76")], fileContent: content)
        do {
            _ = try UnionPayResponse.read(path, zipTo: "\(folder)/bill.zip", maxBytes: 1 << 20, label: "test answer")
            Issue.record("an undecodable fileContent was read")
        } catch let failure as UnionPayResponse.DecodeFailure {
            #expect(failure.wholeAnswer)
            #expect(failure.response.fields["signature"] != nil)
            try await verifier(trusting: signer).verify(failure.response, answerFile: path)
        }
    }

    @Test func aConfiguredRootThatIsNotACertificateIsRefusedNamingItsFile() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = "\(folder)/root.pem"
        try "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n".write(
            toFile: root, atomically: true, encoding: .utf8)
        let options = UnionPayOptions(
            certificateID: "1", privateKey: .file("/unused.pem"), rootCertificate: .file(root), middleCertificate: nil)
        #expect(
            throws: ChannelError.permanent(
                "the certificate in root_cert (file \(root)) is not an X.509 certificate in PEM form")
        ) {
            _ = try UnionPayAnswerVerifier.configured(options, secrets: SecretResolver(), channel: "unionpay-main")
        }
        let unverified = UnionPayOptions(
            certificateID: "1", privateKey: .file("/unused.pem"), rootCertificate: nil, middleCertificate: nil)
        #expect(
            try UnionPayAnswerVerifier.configured(unverified, secrets: SecretResolver(), channel: "unionpay-main")
                == nil)
    }
}
