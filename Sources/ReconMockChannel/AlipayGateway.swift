import ReconCore

/// The Alipay gateway's checks of the common parameters (CHANNELS.md §1.1), before any business
/// logic, with the gateway's own codes and words. Parameters come from the query string or the
/// form body, as the real gateway takes them: the official SDKs put the common ones in the query
/// and `biz_content` in the body; others send everything in a GET's query.
enum AlipayGateway {
    static let method = "alipay.data.dataservice.bill.downloadurl.query"
    /// How far `timestamp` may be from the gateway's clock (Beijing time). Alipay documents only the
    /// format; the window is the mock's choice (unconfirmed for the real gateway).
    static let timestampTolerance: Int64 = 600

    /// A refusal: the node's JSON text, and whether it goes under the method's `…_response` key
    /// (else under `error_response`, as when the method is missing or unknown).
    struct Refusal: Equatable {
        var code: String
        var msg: String
        var subCode: String
        var subMsg: String
        var underMethod = true

        var node: String {
            "{\"code\":\"\(code)\",\"msg\":\"\(msg)\",\"sub_code\":\"\(subCode)\",\"sub_msg\":\"\(subMsg)\"}"
        }

        static func missing(_ subCode: String, _ subMsg: String) -> Refusal {
            Refusal(code: "40001", msg: "Missing Required Arguments", subCode: subCode, subMsg: subMsg)
        }

        static func invalid(_ subCode: String, _ subMsg: String) -> Refusal {
            Refusal(code: "40002", msg: "Invalid Arguments", subCode: subCode, subMsg: subMsg)
        }
    }

    /// The first common parameter the gateway refuses, in the order it checks them, or nil.
    static func refusal(of form: [String: String], beijingNow: Int64) -> Refusal? {
        func value(_ key: String) -> String? { form[key].flatMap { $0.isEmpty ? nil : $0 } }
        guard let method = value("method") else {
            var refusal = Refusal.missing("isv.missing-method", "缺少方法名参数")
            refusal.underMethod = false
            return refusal
        }
        guard method == Self.method else {
            var refusal = Refusal.invalid("isv.invalid-method", "不存在的方法名")
            refusal.underMethod = false
            return refusal
        }
        guard let appID = value("app_id") else { return .missing("isv.missing-app-id", "缺少AppID参数") }
        guard appID.count <= 32, appID.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .invalid("isv.invalid-app-id", "无效的AppID参数")
        }
        if let format = value("format"), format.uppercased() != "JSON" {
            return .invalid("isv.invalid-format", "无效的数据格式")
        }
        if let charset = value("charset"), !["UTF-8", "GBK"].contains(charset.uppercased()) {
            return .invalid("isv.invalid-charset", "字符集错误")
        }
        guard let signType = value("sign_type") else {
            return .missing("isv.missing-signature-type", "缺少签名类型")
        }
        guard signType == "RSA2" else { return .invalid("isv.invalid-signature-type", "无效的签名类型") }
        guard value("sign") != nil else { return .missing("isv.missing-signature", "缺少签名参数") }
        guard let timestamp = value("timestamp") else { return .missing("isv.missing-timestamp", "缺少时间戳参数") }
        guard let seconds = LocalTime.parse(timestamp), abs(seconds - beijingNow) <= timestampTolerance else {
            return .invalid("isv.invalid-timestamp", "非法的时间戳参数")
        }
        guard let version = value("version") else { return .missing("isv.missing-version", "缺少版本参数") }
        guard version == "1.0" else { return .invalid("isv.invalid-parameter", "参数无效: version 只支持 1.0") }
        return nil
    }
}
