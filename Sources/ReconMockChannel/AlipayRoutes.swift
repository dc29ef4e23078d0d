import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconArchive
import ReconBills
import ReconCore

/// Alipay (CHANNELS.md §1) at the real hosts' paths: `GET|POST /gateway.do` (openapi.alipay.com)
/// answers the bill download-URL query (errors with HTTP 200 and a code, as the gateway does),
/// signed with the mock's key over the exact response node; `GET /downloadBillFile.resource`
/// (dwbillcenter.alipay.com) serves the ZIP (GBK entry names, details and summary) for 30 s, and an
/// error page after. Parameters come from the query string or the form body (`AlipayGateway`).
/// The partner id (whose account is pid + `0156`) is `<data>/alipay/<app_id>/partner_id` if given,
/// else `2088` + the app id's last 12 digits. With `<data>/alipay/<app_id>/app_public_key.pem`,
/// the request's RSA2 signature is checked.
struct AlipayRoutes: Sendable {
    let store: MockBillStore
    let faults: FaultPlan
    let stats: MockStats
    let files: FileResponder
    let key: MockSigningKey
    let tokens = DownloadTokens()
    static let node = "alipay_data_dataservice_bill_downloadurl_query_response"

    func register(on router: Router<BasicRequestContext>) {
        router.post("gateway.do") { request, _ in try await self.query(request) }
        router.get("gateway.do") { request, _ in try await self.query(request) }
        router.get("downloadBillFile.resource") { request, _ in
            try self.download(request, token: request.uri.queryParameters.get("token") ?? "")
        }
    }

    private func query(_ request: Request) async throws -> Response {
        stats.enter("alipay")
        defer { stats.leave("alipay") }
        var form = FormBody.decode(request.uri.query ?? "")
        if request.method == .post {
            form.merge(try await FormBody.parse(request)) { _, body in body }
        }
        if let refusal = AlipayGateway.refusal(of: form, beijingNow: LocalTime.beijingNow()) {
            return answer(refusal.node, under: refusal.underMethod ? Self.node : "error_response")
        }
        // The checks above guarantee both.
        let appID = form["app_id"] ?? ""
        let sign = form["sign"] ?? ""
        if let pem = try? String(contentsOfFile: "\(store.folder)/alipay/\(appID)/app_public_key.pem", encoding: .utf8),
            !MockSigningKey.verify(signature: sign, of: Self.content(form), publicKeyPEM: pem)
        {
            return answer(
                #"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}"#)
        }
        struct Biz: Decodable { var bill_type: String; var bill_date: String }
        guard let biz = try? JSONDecoder().decode(Biz.self, from: Data((form["biz_content"] ?? "").utf8)),
            biz.bill_type == "trade",
            let day = LocalDay(biz.bill_date)
        else {
            return answer(
                #"{"code":"40004","msg":"Business Failed","sub_code":"isv.invalid_arguments","sub_msg":"参数错误"}"#)
        }
        let date = day.description
        if let fault = faults.take(
            channel: "alipay", date: date, kinds: [.fail503, .rateLimit429, .notReady, .authError])
        {
            switch fault.kind {
            case .fail503:
                return answer(
                    #"{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"}"#
                )
            case .rateLimit429:
                return answer(
                    #"{"code":"40004","msg":"Business Failed","sub_code":"aop.ACL_CALL_LIMITED","sub_msg":"调用频次超限"}"#)
            case .authError:
                return answer(
                    #"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}"#)
            default:
                return answer(
                    #"{"code":"40004","msg":"Business Failed","sub_code":"isp.bill_not_exist","sub_msg":"账单不存在"}"#)
            }
        }
        // Alipay says the same for "no business" as for "not generated yet".
        if faults.contains(channel: "alipay", date: date, kind: .noBusiness) {
            return answer(
                #"{"code":"40004","msg":"Business Failed","sub_code":"isp.bill_not_exist","sub_msg":"账单不存在"}"#)
        }
        _ = try bill(appID: appID, day: day)
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        tokens.issue(token, merchant: appID, day: day)
        let host = request.head.authority ?? "127.0.0.1"
        let account = partnerID(appID) + "0156"
        let compact = MockBillStore.compact(day)
        let url =
            "http://\(host)/downloadBillFile.resource?bizType=trade&userId=\(account)&fileType=csv.zip"
            + "&bizDates=\(compact)&downloadFileName=\(account)_\(compact).csv.zip"
            + "&fileId=%2Ftrade%2F\(account)%2F\(compact).csv.zip&timestamp=\(Int(Date().timeIntervalSince1970))"
            + "&token=\(token)"
        let tampered = faults.take(channel: "alipay", date: date, kinds: [.badSignature]) != nil
        return answer(
            "{\"code\":\"10000\",\"msg\":\"Success\",\"bill_download_url\":\"\(url)\"}", badSignature: tampered)
    }

    private func download(_ request: Request, token: String) throws -> Response {
        stats.enter("alipay")
        guard let grant = tokens.grant(token, validFor: .seconds(30)),
            faults.take(channel: "alipay", date: grant.day.description, kinds: [.expiredURL]) == nil
        else {
            stats.leave("alipay")
            return Response(
                status: .gone, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "<html><body>下载超时,请重新下载</body></html>")))
        }
        let zip: String
        do {
            zip = try bill(appID: grant.merchant, day: grant.day)
        } catch {
            stats.leave("alipay")
            throw error
        }
        let fault = faults.take(
            channel: "alipay", date: grant.day.description, kinds: [.cutBody, .truncatedBody, .slow, .corruptArchive])
        return files.respond(
            file: zip, channel: "alipay", request: request, fault: fault, contentType: "application/zip")
    }

    /// The day's ZIP: `<pid>0156_<YYYYMMDD>_业务明细.csv` and `…_业务明细(汇总).csv`, GBK names.
    private func bill(appID: String, day: LocalDay) throws -> String {
        let account = partnerID(appID) + "0156"
        let compact = MockBillStore.compact(day)
        let details = try store.file(at: store.path(channel: "alipay", merchant: appID, day: day, ext: "details.csv")) {
            try MockBills.write(
                .alipayDetails(accountID: account), to: $0, merchant: appID, day: day, lines: store.linesPerDay)
        }
        let summary = try store.file(at: store.path(channel: "alipay", merchant: appID, day: day, ext: "summary.csv")) {
            _ = try MockBills.write(
                .alipaySummary(accountID: account), to: $0, merchant: appID, day: day, lines: store.linesPerDay)
            return nil
        }
        return try store.file(at: store.path(channel: "alipay", merchant: appID, day: day, ext: "csv.zip")) {
            try MockPacking.zip(
                [
                    (try GBK.encode("\(account)_\(compact)_业务明细.csv"), details),
                    (try GBK.encode("\(account)_\(compact)_业务明细(汇总).csv"), summary),
                ], to: $0)
            return nil
        }
    }

    private func partnerID(_ appID: String) -> String {
        if let given = try? String(contentsOfFile: "\(store.folder)/alipay/\(appID)/partner_id", encoding: .utf8) {
            return given.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let digits = String(appID.filter(\.isNumber).suffix(12))
        return "2088" + String(repeating: "0", count: 12 - digits.count) + digits
    }

    /// HTTP 200 with the node under `name` and `sign` over the node's exact text (one bit of it
    /// flipped with `badSignature`, as a tampered answer's would not verify).
    private func answer(_ node: String, under name: String = Self.node, badSignature: Bool = false) -> Response {
        var sign = (try? key.sign(node)) ?? ""
        if badSignature { sign = (sign.hasPrefix("A") ? "B" : "A") + sign.dropFirst() }
        let body = "{\"\(name)\":\(node),\"sign\":\"\(sign)\"}"
        return Response(
            status: .ok, headers: [.contentType: "application/json;charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// RSA2's signed text: non-empty parameters but `sign`, sorted, `k=v&…`, raw values.
    static func content(_ form: [String: String]) -> String {
        form.filter { $0.key != "sign" && !$0.value.isEmpty }
            .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            .map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }
}
