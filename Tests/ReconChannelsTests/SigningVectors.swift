import Foundation

// Known-answer vectors for the channels' signatures, kept as data: keys, inputs and the outputs
// that the channels' own SDKs or the channels themselves produced. None of it comes from Recon's
// code or its mock, so a test against them checks Recon's reading of the rules, not its echo.

/// A test RSA key published for exactly this use: the private key of the WeChat Pay Go SDK's
/// signer tests (wechatpay-apiv3/wechatpay-go, core/auth/signers/sha256withrsa_signer_test.go,
/// written there as "TESTING KEY"). No channel trusts it.
enum SDKTestKey {
    static let privatePEM = """
        -----BEGIN PRIVATE KEY-----
        MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDZUJN33V+dSfvd
        fL0Mu+39XrZNXFFMQSy1V15FpncHeV47SmV0TzTqZc7hHB0ddqAdDi8Z5k3TKqb7
        6sOwYr5TcAfuR6PIPaleyE0/0KrljBum2Isa2Nyq7Dgc3ElBQ6YN4l/a+DpvKaz1
        FSKmKrhLNskqokWVSlu4g8OlKlbPXQ9ibII14MZRQrrkTmHYHzfi7GXXM0thAKuR
        0HNvyhTHBh4/lrYM3GaMvmWwkwvsMavnOex6+eioZHBOb1/EIZ/LzC6zuHArPpyW
        3daGaZ1rtQB1vVzTyERAVVFsXXgBHvfFud3w3ShsJYk8JvMwK2RpJ5/gV0QSARcm
        LDRUAlPzAgMBAAECggEBAMc7rDeUaXiWv6bMGbZ3BTXpg1FhdddnWUnYE8HfX/km
        OFI7XtBHXcgYFpcjYz4D5787pcsk7ezPidAj58zqenuclmjKnUmT3pfbI5eCA2v4
        C9HnbYDrmUPK1ZcADtka4D6ScDccpNYNa1g2TFHzkIrEa6H+q7S3O2fqxY/DRVtN
        0JIXalBb8daaqL5QVzSmM2BMVnHy+YITJWIkP2a3pKs9C0W65JGDsnG0wVrHinHF
        +cnhFZIbaPEI//DAFMc9NkrWOKVRTEgcCUxCFaHOZVNxDWZD7A2ZfJB2rK6eg//y
        gEiFDR2h6mTaDowMB4YF2n2dsIO4/dCG8vPHI20jn4ECgYEA/ZGu6lEMlO0XZnam
        AZGtiNgLcCfM/C2ZERZE7QTRPZH1WdK92Al9ndldsswFw4baJrJLCmghjF/iG4zi
        hhBvLnOLksnZUfjdumxoHDWXo2QBWbI5QsWIE7AuTiWgWj1I7X4fCXSQf6i+M/y2
        6TogQ7d0ANpZFyOkTNMn/tiJvLECgYEA22XqlamG/yfAGWery5KNH2DGlTIyd6xJ
        WtJ9j3jU99lZ0bCQ5xhiBbU9ImxCi3zgTsoqLWgA/p00HhNFNoUcTl9ofc0G3zwT
        D1y0ZzcnVKxGJdZ6ohW52V0hJStAigtjYAsUgjm7//FH7PiQDBDP1Wa6xSRkDQU/
        aSbQxvEE8+MCgYEA3bb8krW7opyM0XL9RHH0oqsFlVO30Oit5lrqebS0oHl3Zsr2
        ZGgoBlWBsEzk3UqUhTFwm/DhJLTSJ/TQPRkxnhQ5/mewNhS9C7yua7wQkzVmWN+V
        YeUGTvDGDF6qDz12/vJAgSwDDRym8x4NcXD5tTw7mmNRcwIfL22SkysThIECgYAV
        BgccoEoXWS/HP2/u6fQr9ZIR6eV8Ij5FPbZacTG3LlS1Cz5XZra95UgebFFUHHtC
        EY1JHJY7z8SWvTH8r3Su7eWNaIAoFBGffzqqSVazfm6aYZsOvRY6BfqPHT3p/H1h
        Tq6AbBffxrcltgvXnCTORjHPglU0CjSxVs7awW3AEQKBgB5WtaC8VLROM7rkfVIq
        +RXqE5vtJfa3e3N7W3RqxKp4zHFAPfr82FK5CX2bppEaxY7SEZVvVInKDc5gKdG/
        jWNRBmvvftZhY59PILHO2X5vO4FXh7suEjy6VIh0gsnK36mmRboYIBGsNuDHjXLe
        BDa+8mDLkWu5nHEhOxy2JJZl
        -----END PRIVATE KEY-----
        """

    /// Its public half (`openssl rsa -pubout`).
    static let publicPEM = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2VCTd91fnUn73Xy9DLvt
        /V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXagHQ4vGeZN0yqm++rDsGK+
        U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOmDeJf2vg6byms9RUipiq4
        SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B834uxl1zNLYQCrkdBzb8oU
        xwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGfy8wus7hwKz6clt3Whmmd
        a7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtkaSef4FdEEgEXJiw0VAJT
        8wIDAQAB
        -----END PUBLIC KEY-----
        """

    /// The Go SDK's own vector for that key: SHA256withRSA over "source", base64
    /// (`testExpectedSignature` in the same test file).
    static let sourceSignature =
        "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6pHU4ld815U4j"
        + "sKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOhuH6I"
        + "EqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+"
        + "hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg=="
}

/// Alipay RSA2 (CHANNELS.md §1.1).
enum AlipayVectors {
    /// The example of Alipay's open-platform guide to signing without the SDK ("自行实现签名"):
    /// its request parameters and the string it says is signed (`sign` left out, keys in order).
    static let documentedParameters = [
        "app_id": "2014072300007148",
        "method": "alipay.mobile.public.menu.add",
        "charset": "GBK",
        "sign_type": "RSA2",
        "timestamp": "2014-07-24 03:07:50",
        "biz_content":
            "{\"button\":[{\"actionParam\":\"ZFB_HFCZ\",\"actionType\":\"out\",\"name\":\"话费充值\"},{\"name\":\""
            + "查询\",\"subButton\":[{\"actionParam\":\"ZFB_YECX\",\"actionType\":\"out\",\"name\":\"余额查询\"},{\"a"
            + "ctionParam\":\"ZFB_LLCX\",\"actionType\":\"out\",\"name\":\"流量查询\"},{\"actionParam\":\"ZFB_HFC"
            + "X\",\"actionType\":\"out\",\"name\":\"话费查询\"}]},{\"actionParam\":\"http://m.alipay.com\",\"act"
            + "ionType\":\"link\",\"name\":\"最新优惠\"}]}",
        "sign":
            "e9zEAe4TTQ4LPLQvETPoLGXTiURcxiAKfMVQ6Hrrsx2hmyIEGvSfAQzbLxHrhyZ48wOJXTsD4FPnt+YG"
            + "dK57+fP1BCbf9rIVycfjhYCqlFhbTu9pFnZgT55W+xbAFb9y7vL0MyAxwXUXvZtQVqEwW7pURtKilbcB" + "TEW7TAxzgro=",
        "version": "1.0",
    ]
    static let documentedContent =
        "app_id=2014072300007148&biz_content={\"button\":[{\"actionParam\":\"ZFB_HFCZ\",\"action"
        + "Type\":\"out\",\"name\":\"话费充值\"},{\"name\":\"查询\",\"subButton\":[{\"actionParam\":\"ZFB_YECX\",\""
        + "actionType\":\"out\",\"name\":\"余额查询\"},{\"actionParam\":\"ZFB_LLCX\",\"actionType\":\"out\",\"n"
        + "ame\":\"流量查询\"},{\"actionParam\":\"ZFB_HFCX\",\"actionType\":\"out\",\"name\":\"话费查询\"}]},{\"act"
        + "ionParam\":\"http://m.alipay.com\",\"actionType\":\"link\",\"name\":\"最新优惠\"}]}&charset=GBK"
        + "&method=alipay.mobile.public.menu.add&sign_type=RSA2&timestamp=2014-07-24 03:07:" + "50&version=1.0"

    /// Our bill request's parameters, signed by Alipay's Python SDK (alipay-sdk-python 3.7.1411,
    /// `SignatureUtils.get_sign_content` then `sign_with_rsa2`, charset utf-8) with `SDKTestKey`.
    static let requestParameters = [
        "app_id": "2014072300007148",
        "method": "alipay.data.dataservice.bill.downloadurl.query",
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2026-11-24 10:00:00",
        "version": "1.0",
        "biz_content": "{\"bill_type\":\"trade\",\"bill_date\":\"2026-11-23\"}",
    ]
    static let requestContent =
        "app_id=2014072300007148&biz_content={\"bill_type\":\"trade\",\"bill_date\":\"2026-11-23"
        + "\"}&charset=utf-8&format=JSON&method=alipay.data.dataservice.bill.downloadurl.que"
        + "ry&sign_type=RSA2&timestamp=2026-11-24 10:00:00&version=1.0"
    static let requestSignature =
        "iVhQWNjBgGDVGspz4tm11JTyUR8UzqlxSlDRF4a64HbL0ZpOVlBs0MZR2EEUBmDPOkEaeR2MkOlVS+705sLNJx01vx1SGX0++mLG"
        + "tPaH9lmVjKimffRTe5PdWnlK0CpLqHisRBz+N4IL+qvLuGP/2GITtUgoh2IQVAwPAf4jD01t4rZKyNgzBJYmme1OE56qoEJob/mL"
        + "zfqmwiT/xUn50DW+Re63drxR8jUnubFn2z9xL7tPs0MYgSWgzv0UCqTpKVBFu75+PS48JdrNhDb2U1PwXLQEt2D7LfS2CDeBMz/0"
        + "jtj2N0G37NImd0Tgq7SF+IBPqTQ5Yno2FQTk7ZCCFQ=="

    /// A gateway answer whose `sign` the SDK made over the response node's text with `SDKTestKey`;
    /// the SDK's own response check (`DefaultAlipayClient.__parse_response`, with `SDKTestKey`'s
    /// public half as Alipay's key) accepts it.
    static let signedAnswer =
        "{\"alipay_data_dataservice_bill_downloadurl_query_response\":{\"code\":\"10000\",\"msg\""
        + ":\"Success\",\"bill_download_url\":\"http://dwbillcenter.alipay.com/downloadBillFile."
        + "resource?bizType=trade&userId=20880000000000000156&fileType=csv.zip&bizDates=202"
        + "61123&downloadFileName=20880000000000000156_20261123.csv.zip&fileId=%2Ftrade%2F2"
        + "0880000000000000156%2F20261123.csv.zip&timestamp=1795400000&token=0123456789abcd"
        + "ef0123456789abcdef\"},\"sign\":\"mD7T71jASHheSX4gYe/BjKVipuDL0J0ByDoTSIDxTJVtJ3Da22k"
        + "SUxEwqyjEpNUTj3hCPPTu3pYFCQGoqObKutHtMJilGWtjk/BseA3YcdIkPzNdIRQdDD0lwDGB72joVnR"
        + "iAAP1QWJTwP4jfIwkDLqm68q3LueFb/pwVWKASvNEkRLGAgPJiIBBu/4sVttkuzeEeLmdkN/YFLEvncI"
        + "HBE7w7tfQZhjxXE3lclE/XSKCCv3i9GZwECBEUPzDk+gCNNChM64lOW6RyrRSQGCengWdpXeZ+dEXylY"
        + "o2AAhK8DrZkgJsRLPZ0KOAk92GnTR6izVfM5Gk6Un944GOwq3gA==\"}"
}

/// WeChat Pay API v3 (CHANNELS.md §2.1).
enum WeChatPayVectors {
    /// The inputs of the signing example in WeChat Pay's v3 guide (签名生成: GET /v3/certificates,
    /// timestamp 1554208460, nonce 593BEC0C930BF1AFEB40B4A08C8FB242, merchant 1900009191) and the
    /// message it spells out, signed by the Python SDK (wechatpayv3 2.0.4, `build_authorization`
    /// with its clock fixed) with `SDKTestKey`: the guide's own signature needs its merchant's key.
    static let documentedMessage = "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
    static let documentedSignature =
        "RjVFHMcrr9NsM4SiNmpFx6QPR99WztxatBshmr/6f7pXnt2YSPAhmNrEEAjWgpOcf5Zxbwl2qdPACOsEOeGrnLD81nVK3ucJq50i"
        + "D0FAyF11knd1C9ic7zV9Jg3zao0+Wx3yAI6jXx6NLBEfNNspCazrQ+IHsUi04tubSBsT+4LHT9j0rL9axFBl7jVYe7uZ1ZQzap8E"
        + "okLHDQbYw6qPEOs85+a2rnudh3TCPe81oUfe0zPqwEE6sWxxeSCYx+1mbURsOAN4Z8/uKgOIZxbDAkqYWFb7VOaHFeejC1rsxUc7"
        + "wkw0zQWxae1giswROXii1DorwdJ3CGlPchx0PyDjkQ=="

    /// Our bill application (`GET /v3/bill/tradebill?…`), signed the same way.
    static let billURL =
        "https://api.mch.weixin.qq.com/v3/bill/tradebill?bill_date=2026-11-23&bill_type=ALL&tar_type=GZIP"
    static let billTimestamp: Int64 = 1_795_485_600
    static let billNonce = "0123456789ABCDEF0123456789ABCDEF"
    static let billSignature =
        "JZOPhLCf0AG1EmAlbOMrwWqtwIeIDXxbkzCyV5cbkhSYZKYw0QdAqR0p2PUfyLOqUS9vIR9UBWJ5W0IWll8JZ4uxD0l9tHNA7y+5"
        + "XgAewCysYUCAJjy6WKPeLfHwBlVsHgbvar/aNpyBJoxTToAkmZAGxKFdHNGRTjtOfqlAMbukd3GXOKrsTkIXQzD2OSlu1ucZogU2"
        + "nKiQZd2hH7/1T61QJKLbyX557MApRSXzP+dSuRfSgcY+uV3xosZIG2J0hXYm+88EGpnZ+Se5doN1j96U6T6NtOiNRfWHF9nJXFK5"
        + "oBo8Vd7Wgcw7VMrO6GsHlWh+VmAHy/B6WaXsT+7xdQ=="

    /// An answer signed over `timestamp\nnonce\nbody\n` (with the nonce of the guide's
    /// verification example) with `SDKTestKey`; the SDK's `rsa_verify`, which builds that message
    /// itself, accepts it.
    static let answerTimestamp = "1795485601"
    static let answerNonce = "c5ac7061fccab6bf3e254dcf98995b8c"
    static let answerBody =
        "{\"hash_type\":\"SHA1\",\"hash_value\":\"72c716447d9f6838ba77360c950ad104c5d8a710\",\"dow"
        + "nload_url\":\"https://api.mch.weixin.qq.com/v3/billdownload/file?token=SYNTHETIC\"}"
    static let answerSignature =
        "Fk3QR1wocp+vxasETaoRubnMyXRlUv/wcjHKApi0JRGgTlme6oHdBq7eZ1a8dg/EIcxS+/Std1LJE8GUzKFJwTNW1QMK0TuD/ml0"
        + "nPSIB83B0gqA0HXZ7zck2Cii+b7WFN9XFWJYOfV139Wnge/0t8qv4/10tpmqjo9L9IO2QmBMV502AgO18bM1wk4L9fgRB53eaVvD"
        + "h/h7xNvvAMbkKm+HxuhBx86PDCuJVcivMcyqavkpFfFUvIeA0fElK8lmpXY5K3gxLZ/1TDDRkeInEe2pOg4XcLE1TvjsVCOeXnmm"
        + "5rdxZgAYPeZ/YS8piXa6/+UM5xajHWw9TFUmWtJvGA=="
}

/// UnionPay ACP 5.1.0 (CHANNELS.md §3.1).
enum UnionPayVectors {
    /// An answer UnionPay's test environment signed (a 2022 payment notification of test merchant
    /// 777290058167151), as published in the tests of yansongda/pay (UnipayTraitTest,
    /// `testVerifyUnipaySign`): its fields, and `signature` over them by UnionPay's own signing
    /// certificate, which the answer carries in `signPubKeyCert` (lines ended by CR LF).
    static let signedFields: [(String, String)] = [
        (
            "accNo",
            "ORRSXWY1kMr8UJNxGx9xKPuO0Uhm8JT8aQV3sWswJfIsj/grkjauH4soyAtiqB9XwQotZOwmUAs/pkMu"
                + "pUkfiX9npdFGGEUEc5gqq+lcEwyD7tLmd2WBzRvcEvvjAKMKwTCFDxmQbIrP48ocIVhPoZ87ZQtQM5MI"
                + "yJYedrzPRlt6BzRddUPGU1gJwDA8APDx3iyNl8EAfenJw7DUDZimmhbE1VSRmQm/iqgJurI7juq/6ztD"
                + "HZHv4ys1eN9JYkwhcKxCjsWpwXTSy0PGvDXhsAZsDuNXHsjI8JLhHXvTDaU2+gc289LZPiwpr4Ah/reI"
                + "uPWrIHubchYm2XTqQlUAaw=="
        ),
        ("accessType", "0"),
        ("bizType", "000201"),
        ("currencyCode", "156"),
        ("encoding", "utf-8"),
        ("exchangeRate", "0"),
        ("merId", "777290058167151"),
        ("orderId", "yansongda20220908132206"),
        ("queryId", "782209081322060674028"),
        ("respCode", "00"),
        ("respMsg", "success"),
        ("settleAmt", "1"),
        ("settleCurrencyCode", "156"),
        ("settleDate", "0908"),
        ("signMethod", "01"),
        ("signPubKeyCert", signPubKeyCert),
        ("traceNo", "067402"),
        ("traceTime", "0908132206"),
        ("txnAmt", "1"),
        ("txnSubType", "01"),
        ("txnTime", "20220908132206"),
        ("txnType", "01"),
        ("version", "5.1.0"),
    ]
    static let signPubKeyCert = [
        "-----BEGIN CERTIFICATE-----",
        "MIIEYzCCA0ugAwIBAgIFEDkwhTQwDQYJKoZIhvcNAQEFBQAwWDELMAkGA1UEBhMC",
        "Q04xMDAuBgNVBAoTJ0NoaW5hIEZpbmFuY2lhbCBDZXJ0aWZpY2F0aW9uIEF1dGhv",
        "cml0eTEXMBUGA1UEAxMOQ0ZDQSBURVNUIE9DQTEwHhcNMjAwNzMxMDExOTE2WhcN",
        "MjUwNzMxMDExOTE2WjCBljELMAkGA1UEBhMCY24xEjAQBgNVBAoTCUNGQ0EgT0NB",
        "MTEWMBQGA1UECxMNTG9jYWwgUkEgT0NBMTEUMBIGA1UECxMLRW50ZXJwcmlzZXMx",
        "RTBDBgNVBAMMPDA0MUA4MzEwMDAwMDAwMDgzMDQwQOS4reWbvemTtuiBlOiCoeS7",
        "veaciemZkOWFrOWPuEAwMDAxNjQ5NTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCC",
        "AQoCggEBAMHNa81t44KBfUWUgZhb1YTx3nO9DeagzBO5ZEE9UZkdK5+2IpuYi48w",
        "eYisCaLpLuhrwTced19w2UR5hVrc29aa2TxMvQH9s74bsAy7mqUJX+mPd6KThmCr",
        "t5LriSQ7rDlD0MALq3yimLvkEdwYJnvyzA6CpHntP728HIGTXZH6zOL0OAvTnP8u",
        "RCHZ8sXJPFUkZcbG3oVpdXQTJVlISZUUUhsfSsNdvRDrcKYY+bDWTMEcG8ZuMZzL",
        "g0N+/spSwB8eWz+4P87nGFVlBMviBmJJX8u05oOXPyIcZu+CWybFQVcS2sMWDVZy",
        "sPeT3tPuBDbFWmKQYuu+gT83PM3G6zMCAwEAAaOB9DCB8TAfBgNVHSMEGDAWgBTP",
        "cJ1h6518Lrj3ywJA9wmd/jN0gDBIBgNVHSAEQTA/MD0GCGCBHIbvKgEBMDEwLwYI",
        "KwYBBQUHAgEWI2h0dHA6Ly93d3cuY2ZjYS5jb20uY24vdXMvdXMtMTQuaHRtMDkG",
        "A1UdHwQyMDAwLqAsoCqGKGh0dHA6Ly91Y3JsLmNmY2EuY29tLmNuL1JTQS9jcmw3",
        "NTAwMy5jcmwwCwYDVR0PBAQDAgPoMB0GA1UdDgQWBBTmzk7XEM/J/sd+wPrMils3",
        "9rJ2/DAdBgNVHSUEFjAUBggrBgEFBQcDAgYIKwYBBQUHAwQwDQYJKoZIhvcNAQEF",
        "BQADggEBAJLbXxbJaFngROADdNmNUyVxPtbAvK32Ia0EjgDh/vjn1hpRNgvL4flH",
        "NsGNttCy8afLJcH8UnFJyGLas8v/P3UKXTJtgrOj1mtothv7CQa4LUYhzrVw3UhL",
        "4L1CTtmE6D1Kf3+c2Fj6TneK+MoK9AuckySjK5at6a2GQi18Y27gVF88Nk8bp1lJ",
        "vzOwPKd8R7iGFotuF4/8GGhBKR4k46EYnKCodyIhNpPdQfpaN5AKeS7xeLSbFvPJ",
        "HYrtBsI48jUK/WKtWBJWhFH+Gty+GWX0e5n2QHXHW6qH62M0lDo7OYeyBvG1mh9u",
        "Q0C300Eo+XOoO4M1WvsRBAF13g9RPSw=",
        "-----END CERTIFICATE-----",
    ].joined(separator: "\r\n")
    static let signature =
        "JeA4S2+6TbGo9yjXDUvV5A2E3oJbunoCcZ66exN6xR3OH/5PNDK1VSV1Mq7XhVdxzkTeREUveiOYHalqoagRkh71nsHVvruwGbk6"
        + "azygXSaawuO5tF67UIqNd4Mbufwh1KhbVpEkKbOETUvRhFcdon0fulE97I83eMSk52INHt8E1xk8NdbhyUadSlp+Uv30AKx70PpQ"
        + "bTGmVS3PJfd+Whj0b7LnvZKeC+BS1kUOtIKlcZO+gBoTigvCIJqj51kBrcBCs+x+VaeGm7EYBBhGSERpfQhQ4n+eJBwLdBeZ0/dN"
        + "bo3iELjvVMx0n9KoW4klvUJhaH5LALA8pV02SbZv4Q=="
    /// SHA-256 (hex) of the signed text as published (Python's hashlib over the test's string).
    static let signedTextSHA256 = "39be34ceac545612fdca7c9bfc765aba9959ab14e840cc111d3ebdd507b0d371"
    /// The public key of `signPubKeyCert` (`openssl x509 -pubkey`; CN
    /// 041@8310000000083040@中国银联股份有限公司@00016495, valid 2020-07-31 to 2025-07-31).
    static let publicPEM = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwc1rzW3jgoF9RZSBmFvV
        hPHec70N5qDME7lkQT1RmR0rn7Yim5iLjzB5iKwJouku6GvBNx53X3DZRHmFWtzb
        1prZPEy9Af2zvhuwDLuapQlf6Y93opOGYKu3kuuJJDusOUPQwAurfKKYu+QR3Bgm
        e/LMDoKkee0/vbwcgZNdkfrM4vQ4C9Oc/y5EIdnyxck8VSRlxsbehWl1dBMlWUhJ
        lRRSGx9Kw129EOtwphj5sNZMwRwbxm4xnMuDQ37+ylLAHx5bP7g/zucYVWUEy+IG
        Yklfy7Tmg5c/Ihxm74JbJsVBVxLawxYNVnKw95Pe0+4ENsVaYpBi676BPzc8zcbr
        MwIDAQAB
        -----END PUBLIC KEY-----
        """

    /// Our file-transfer request (txnType 76), signed with `SDKTestKey` by OpenSSL following the
    /// 5.1.0 rule: `sha256sum` of the sorted text, then `openssl dgst -sha256 -sign` over that hex.
    /// No public signing vector with a published key was found; this one is made outside Recon.
    static let requestFields = [
        "accessType": "0",
        "bizType": "000000",
        "certId": "68759663125",
        "encoding": "UTF-8",
        "fileType": "00",
        "merId": "802310048993424",
        "settleDate": "1123",
        "signMethod": "01",
        "txnSubType": "01",
        "txnTime": "20261124100000",
        "txnType": "76",
        "version": "5.1.0",
    ]
    static let requestDigest = "f326ebf96e21722197b13f83a574df19e46a6584a929a8c88993298141f12149"
    static let requestSignature =
        "n1vJAyaQAFpks2fGkTafbcsPEjFD6Y+bhx8EH3jRJPFhWRKu7q4tr+Y4R/LVv8DjxeXgCrG71leQhOO29pPztmRxUdjIKj4owLEp"
        + "21ByXhzwWVa3vWivVAmNdwrvwCxpXF4iQirww1duuwpTgnCUx3Ya+blwIcHsrSLBm/90AHENyyF2iR+QJqAOpSPQvibn06IheD7p"
        + "rjuehppT2mHSc+mFVYX2vKO4wD2j37m5ryghk42FcuDaGY1RaCPgr4lf76FhgeZ3fTA8m08ct8+qsxNYBEjLi+rhBMdCIfpSdMEC"
        + "RR/C9JJAprexcbZcIhmzIB/pkWrdw2aekKy4Sij0bA=="
}
