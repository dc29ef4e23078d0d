import Foundation
import ReconArchive

/// How Alipay's answers are classified (CHANNELS.md §1.1 and §5), as pure functions of what came
/// back: the adapter calls them between its network calls and keeps only the I/O.
extension AlipayAdapter {
    /// The gateway's answer to `alipay.data.dataservice.bill.downloadurl.query` (errors come with
    /// HTTP 200 too), checked with Alipay's public key when one is configured: the download URL,
    /// "no bill", or a failure with the gateway's code and message.
    static func classifyGateway(_ answer: ChannelAnswer, verifier: RSAVerifier?, what: String) -> AnswerClass<String> {
        let parsed = responseNode(in: answer.body)
        // An error status quotes the node's code and message when there is one, never the raw
        // answer (whose sign would come with it).
        let statusDetail = parsed.map { words(of: $0.node) } ?? answer.bodySnippet
        if let failure = answer.statusFailure("\(what): gateway", detail: statusDetail) {
            return .failed(failure)
        }
        guard answer.status == 200 else {
            return .failed(.permanent("\(what): gateway HTTP \(answer.status ?? 0): \(statusDetail)"))
        }
        guard let (raw, node) = parsed else {
            return .failed(.transient("\(what): the gateway's answer has no response node"))
        }
        let code = node.code ?? "-"
        let sub = node.sub_code ?? ""
        let detail = words(of: node)
        // Gateway hiccups and limits may come unsigned: transient whatever the signature says.
        if code == "20000" || sub.hasPrefix("aop.ACL") || sub.contains("call-limited") {
            return .failed(.transient("\(what): \(detail)"))
        }
        if let verifier {
            struct Envelope: Decodable { var sign: String? }
            let sign = (try? JSONDecoder().decode(Envelope.self, from: answer.body))?.sign ?? ""
            guard verifier.isValid(signature: sign, for: String(decoding: raw, as: UTF8.self)) else {
                return .failed(.permanent("\(what): the gateway's answer does not verify with Alipay's public key"))
            }
        }
        if code == "10000" {
            guard let url = node.bill_download_url, url.hasPrefix("http") else {
                return .failed(.transient("\(what): code 10000 without a usable bill_download_url"))
            }
            return .ready(url)
        }
        switch (code, sub) {
        case ("40004", "isp.bill_not_exist"), ("40004", "BILL_NOT_EXIST"):
            return .noBill("\(what): \(detail)")
        default:
            return .failed(.permanent("\(what): \(detail)"))
        }
    }

    /// The method's node (or `error_response`) as raw bytes, which the sign covers, and decoded.
    static func responseNode(in body: Data) -> (raw: [UInt8], node: Node)? {
        let bytes = [UInt8](body)
        guard
            let raw = AlipaySignature.rawValue(of: responseKey, in: bytes)
                ?? AlipaySignature.rawValue(of: "error_response", in: bytes),
            let node = try? JSONDecoder().decode(Node.self, from: Data(raw))
        else { return nil }
        return (raw, node)
    }

    /// "code 40004 Business Failed isp.bill_not_exist 账单不存在": the gateway's own words.
    static func words(of node: Node) -> String {
        "code \(node.code ?? "-") \(node.msg ?? "") \(node.sub_code ?? "") \(node.sub_msg ?? "")"
            .trimmingCharacters(in: .whitespaces)
    }

    /// The download's answer: `fileHead` is the first bytes of the file a 2xx answer went to, nil
    /// when none did. Any refusal (an expired URL: 410 on the mock, often 403 elsewhere) and any
    /// body that is not a ZIP (an error page) mean asking for a new URL: transient.
    static func classifyDownload(_ answer: ChannelAnswer, fileHead: [UInt8]?, what: String) -> AnswerClass<Void> {
        guard let fileHead else {
            return .failed(
                .transient(
                    "\(what): download HTTP \(answer.status ?? 0) (expired URL?): \(answer.bodySnippet)",
                    retryAfter: answer.retryAfter))
        }
        guard ZipArchive.looksLikeZip(fileHead) else {
            return .failed(
                .transient("\(what): the download is not a ZIP archive (an error page?); asking for a new URL"))
        }
        return .ready(())
    }
}
