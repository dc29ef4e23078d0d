import ReconCore
import Testing

@testable import ReconMockChannel

/// The mock gateway's checks of Alipay's common parameters: what it refuses, with which of
/// Alipay's codes, and under which node.
@Suite struct AlipayGatewayTests {
    /// 2026-11-24 10:00:00 Beijing, as wall-clock seconds.
    static let now: Int64 = 1_795_485_600 + LocalTime.beijingOffsetSeconds

    static let good = [
        "app_id": "2021000000000042", "method": AlipayGateway.method, "format": "json", "charset": "utf-8",
        "sign_type": "RSA2", "sign": "c2lnbg==", "timestamp": LocalTime.text(now), "version": "1.0",
        "biz_content": #"{"bill_type":"trade","bill_date":"2026-11-23"}"#,
    ]

    static func refusal(_ changes: [String: String?]) -> AlipayGateway.Refusal? {
        var form = good
        for (key, value) in changes { form[key] = value }
        return AlipayGateway.refusal(of: form, beijingNow: now)
    }

    @Test func theSDKsParametersPassFormatInAnyCaseAndCharsetUTF8OrGBK() {
        #expect(Self.refusal([:]) == nil)
        #expect(Self.refusal(["format": "JSON", "charset": "GBK"]) == nil)
        // Optional ones may be left out.
        #expect(Self.refusal(["format": nil, "charset": nil]) == nil)
        // Within the window either way.
        #expect(Self.refusal(["timestamp": LocalTime.text(Self.now - 599)]) == nil)
        #expect(Self.refusal(["timestamp": LocalTime.text(Self.now + 599)]) == nil)
    }

    @Test(
        arguments: [
            (["timestamp": "2026-11-24T10:00:00"], "40002", "isv.invalid-timestamp"),
            (["timestamp": "2026/11/24 10:00:00"], "40002", "isv.invalid-timestamp"),
            (["timestamp": "2026-11-24 10:00"], "40002", "isv.invalid-timestamp"),
            (["timestamp": "2026-11-24 02:00:00"], "40002", "isv.invalid-timestamp"),
            (["timestamp": "2026-11-24 10:10:01"], "40002", "isv.invalid-timestamp"),
            (["timestamp": nil], "40001", "isv.missing-timestamp"),
            (["version": "2.0"], "40002", "isv.invalid-parameter"),
            (["version": ""], "40001", "isv.missing-version"),
            (["format": "XML"], "40002", "isv.invalid-format"),
            (["charset": "latin1"], "40002", "isv.invalid-charset"),
            (["sign_type": "RSA"], "40002", "isv.invalid-signature-type"),
            (["sign_type": nil], "40001", "isv.missing-signature-type"),
            (["sign": nil], "40001", "isv.missing-signature"),
            (["app_id": nil], "40001", "isv.missing-app-id"),
            (["app_id": "app-42"], "40002", "isv.invalid-app-id"),
        ] as [([String: String?], String, String)])
    func aBadCommonParameterIsRefusedUnderTheMethodNode(changes: [String: String?], code: String, subCode: String) {
        let refusal = Self.refusal(changes)
        #expect(refusal?.code == code)
        #expect(refusal?.subCode == subCode)
        #expect(refusal?.underMethod == true)
        #expect(refusal?.msg == (code == "40001" ? "Missing Required Arguments" : "Invalid Arguments"))
    }

    @Test func aMissingOrUnknownMethodIsAnsweredUnderErrorResponse() {
        #expect(
            Self.refusal(["method": nil])
                == .init(
                    code: "40001", msg: "Missing Required Arguments", subCode: "isv.missing-method", subMsg: "缺少方法名参数",
                    underMethod: false))
        let unknown = Self.refusal(["method": "alipay.trade.query"])
        #expect(unknown?.subCode == "isv.invalid-method" && unknown?.underMethod == false)
        // The node is the JSON the gateway signs.
        #expect(
            unknown?.node
                == #"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-method","sub_msg":"不存在的方法名"}"#)
    }
}
