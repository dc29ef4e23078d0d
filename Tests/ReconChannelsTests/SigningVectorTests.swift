import Foundation
import ReconHTTP
import Testing

@testable import ReconChannels

/// Recon's signing and verification against known answers from outside Recon (SigningVectors.swift
/// says where each came from): the channels' documentation, their SDKs, and an answer UnionPay
/// itself signed. The mock channel implements the same reading of the rules as the adapters, so
/// only vectors like these can catch a misreading both share.
@Suite struct SigningVectorTests {
    let signer: RSASigner
    let verifier: RSAVerifier

    init() throws {
        signer = try RSASigner(pem: SDKTestKey.privatePEM, describedAs: "the Go SDK's test key")
        verifier = try RSAVerifier(pem: SDKTestKey.publicPEM, describedAs: "the Go SDK's test key")
    }

    @Test func sha256WithRSAMatchesTheGoSDKsOwnVector() throws {
        #expect(try signer.sign("source") == SDKTestKey.sourceSignature)
        #expect(verifier.isValid(signature: SDKTestKey.sourceSignature, for: "source"))
        #expect(!verifier.isValid(signature: SDKTestKey.sourceSignature, for: "sourcE"))
    }

    // MARK: Alipay RSA2

    @Test func alipaySignsTheSortedParametersAsTheGuideShows() throws {
        #expect(AlipaySignature.content(AlipayVectors.documentedParameters) == AlipayVectors.documentedContent)
        // Empty parameters are left out, as the guide says.
        var withEmpty = AlipayVectors.documentedParameters
        withEmpty["app_auth_token"] = ""
        #expect(AlipaySignature.content(withEmpty) == AlipayVectors.documentedContent)
    }

    @Test func alipayRequestSignatureMatchesTheSDK() throws {
        let content = AlipaySignature.content(AlipayVectors.requestParameters)
        #expect(content == AlipayVectors.requestContent)
        #expect(try signer.sign(content) == AlipayVectors.requestSignature)
    }

    @Test func alipayAnswerVerifiesOverTheExactNodeText() throws {
        let body = Array(AlipayVectors.signedAnswer.utf8)
        let node = try #require(AlipaySignature.rawValue(of: AlipayAdapter.responseKey, in: body))
        let text = String(decoding: node, as: UTF8.self)
        #expect(text.hasPrefix("{\"code\":\"10000\"") && text.hasSuffix("0123456789abcdef\"}"))
        struct Envelope: Decodable { var sign: String }
        let sign = try JSONDecoder().decode(Envelope.self, from: Data(body)).sign
        #expect(verifier.isValid(signature: sign, for: text))
        #expect(!verifier.isValid(signature: sign, for: text.replacingOccurrences(of: "10000", with: "10001")))
    }

    // MARK: WeChat Pay v3

    /// The parts of an Authorization header, whatever their order.
    static func parts(_ header: String) throws -> [String: String] {
        let scheme = "WECHATPAY2-SHA256-RSA2048 "
        try #require(header.hasPrefix(scheme))
        var parts: [String: String] = [:]
        for item in header.dropFirst(scheme.count).split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            try #require(pair.count == 2 && pair[1].hasPrefix("\"") && pair[1].hasSuffix("\""))
            parts[String(pair[0])] = String(pair[1].dropFirst().dropLast())
        }
        return parts
    }

    @Test func weChatAuthorizationMatchesTheGuidesMessageAndTheSDKsSignature() throws {
        let url = "https://api.mch.weixin.qq.com/v3/certificates"
        #expect(
            WeChatPayAuthorization.message(
                method: "GET", url: url, timestamp: 1_554_208_460, nonce: "593BEC0C930BF1AFEB40B4A08C8FB242", body: "")
                == WeChatPayVectors.documentedMessage)
        let authorization = WeChatPayAuthorization(
            merchantID: "1900009191", certificateSerial: "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", signer: signer)
        let header = try authorization.header(
            method: "GET", url: url, timestamp: 1_554_208_460, nonce: "593BEC0C930BF1AFEB40B4A08C8FB242")
        #expect(
            try Self.parts(header) == [
                "mchid": "1900009191", "nonce_str": "593BEC0C930BF1AFEB40B4A08C8FB242", "timestamp": "1554208460",
                "serial_no": "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
                "signature": WeChatPayVectors.documentedSignature,
            ])
    }

    @Test func weChatBillApplicationIsSignedOverItsPathAndQuery() throws {
        let authorization = WeChatPayAuthorization(
            merchantID: "1900000000", certificateSerial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", signer: signer)
        let header = try authorization.header(
            method: "GET", url: WeChatPayVectors.billURL, timestamp: WeChatPayVectors.billTimestamp,
            nonce: WeChatPayVectors.billNonce)
        #expect(try Self.parts(header)["signature"] == WeChatPayVectors.billSignature)
    }

    @Test func weChatAnswerSignatureCoversTimestampNonceAndBody() throws {
        let message = WeChatPayAuthorization.responseMessage(
            timestamp: WeChatPayVectors.answerTimestamp, nonce: WeChatPayVectors.answerNonce,
            body: WeChatPayVectors.answerBody)
        #expect(message == "1795485601\nc5ac7061fccab6bf3e254dcf98995b8c\n\(WeChatPayVectors.answerBody)\n")
        #expect(verifier.isValid(signature: WeChatPayVectors.answerSignature, for: message))
        // The adapter's check of the headers accepts it, and refuses another body.
        var answer = ChannelAnswer(
            status: 200,
            headers: [
                "Wechatpay-Timestamp": WeChatPayVectors.answerTimestamp,
                "Wechatpay-Nonce": WeChatPayVectors.answerNonce,
                "Wechatpay-Signature": WeChatPayVectors.answerSignature,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            ],
            body: Data(WeChatPayVectors.answerBody.utf8))
        try WeChatPayAdapter.verify(answer, with: verifier, what: "test")
        answer.body = Data(WeChatPayVectors.answerBody.replacingOccurrences(of: "SHA1", with: "SHA2").utf8)
        #expect(throws: ChannelError.self) { try WeChatPayAdapter.verify(answer, with: verifier, what: "test") }
    }

    // MARK: UnionPay 5.1.0

    @Test func unionPayRequestSignatureMatchesOpenSSL() throws {
        #expect(
            UnionPaySignature.digestHex(UnionPaySignature.content(UnionPayVectors.requestFields))
                == UnionPayVectors.requestDigest)
        #expect(
            try UnionPaySignature.sign(UnionPayVectors.requestFields, with: signer) == UnionPayVectors.requestSignature)
        // The signature field itself is never signed.
        var signed = UnionPayVectors.requestFields
        signed["signature"] = UnionPayVectors.requestSignature
        #expect(try UnionPaySignature.sign(signed, with: signer) == UnionPayVectors.requestSignature)
    }

    @Test func anAnswerUnionPaySignedVerifies() throws {
        var fields = Dictionary(uniqueKeysWithValues: UnionPayVectors.signedFields)
        fields["signature"] = UnionPayVectors.signature
        let digest = UnionPaySignature.digestHex(UnionPaySignature.content(fields))
        #expect(digest == UnionPayVectors.signedTextSHA256)
        let unionPay = try RSAVerifier(pem: UnionPayVectors.publicPEM, describedAs: "UnionPay's test signing key")
        #expect(unionPay.isValid(signature: UnionPayVectors.signature, for: digest))
        fields["respMsg"] = "failure"
        #expect(
            !unionPay.isValid(
                signature: UnionPayVectors.signature,
                for: UnionPaySignature.digestHex(UnionPaySignature.content(fields))))
    }

    /// The streaming reader and its incremental hash over the answer as written, in any order.
    @Test(arguments: [false, true])
    func anAnswerUnionPaySignedVerifiesFromTheAnswerFile(reversed: Bool) throws {
        let folder = NSTemporaryDirectory() + "recon-unionpay-vector-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var pairs = UnionPayVectors.signedFields + [("signature", UnionPayVectors.signature)]
        if reversed { pairs.reverse() }
        let path = folder + "/response.txt"
        try Data(pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&").utf8).write(to: URL(fileURLWithPath: path))
        let response = try UnionPayResponse.read(path, zipTo: folder + "/bill.zip", maxBytes: 1 << 20, label: "vector")
        #expect(response.fields["signPubKeyCert"] == UnionPayVectors.signPubKeyCert)
        let digest = try response.signedTextDigest(answerFile: path)
        #expect(digest == UnionPayVectors.signedTextSHA256)
        let unionPay = try RSAVerifier(pem: UnionPayVectors.publicPEM, describedAs: "UnionPay's test signing key")
        #expect(unionPay.isValid(signature: try #require(response.fields["signature"]), for: digest))
    }
}
