import Foundation

/// WeChat Pay API v3's request signature (CHANNELS.md §2.1): the Authorization header
/// `WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,timestamp=…,serial_no=…,signature=…`, where the
/// signature covers `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
public struct WeChatPayAuthorization: Sendable {
    public let merchantID: String
    public let certificateSerial: String
    let signer: RSASigner

    public init(merchantID: String, certificateSerial: String, signer: RSASigner) {
        self.merchantID = merchantID
        self.certificateSerial = certificateSerial
        self.signer = signer
    }

    /// The header for `method` on `url` (its path and query are what is signed).
    public func header(method: String, url: String, body: String = "", timestamp: Int64, nonce: String) throws -> String
    {
        let signature = try signer.sign(
            Self.message(method: method, url: url, timestamp: timestamp, nonce: nonce, body: body))
        return "WECHATPAY2-SHA256-RSA2048 mchid=\"\(merchantID)\",nonce_str=\"\(nonce)\",timestamp=\"\(timestamp)\","
            + "serial_no=\"\(certificateSerial)\",signature=\"\(signature)\""
    }

    /// The signed text: the URL's path with its query, exactly as sent.
    public static func message(method: String, url: String, timestamp: Int64, nonce: String, body: String) -> String {
        "\(method)\n\(pathAndQuery(url))\n\(timestamp)\n\(nonce)\n\(body)\n"
    }

    /// `/v3/bill/tradebill?bill_date=…` from a whole URL, byte for byte (no re-encoding).
    public static func pathAndQuery(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        let path = rest[slash...]
        return String(path.split(separator: "#", maxSplits: 1).first ?? path)
    }

    /// The text a response's `Wechatpay-Signature` covers.
    public static func responseMessage(timestamp: String, nonce: String, body: String) -> String {
        "\(timestamp)\n\(nonce)\n\(body)\n"
    }
}
