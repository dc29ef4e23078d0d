import Foundation
import HTTPTypes
import Hummingbird
import ReconCore

/// `bank_csv` (CHANNELS.md §4): `GET /bills/<merchant>/<YYYYMMDD>.csv` (CHANNELS.md's example
/// `url_template`; also `.csv.gz` and `.zip`) and its `.sha256` sidecar. Not published is 404; no
/// business is a file whose trailer says 0 lines.
struct BankRoutes: Sendable {
    let store: MockBillStore
    let faults: FaultPlan
    let stats: MockStats
    let files: FileResponder
    let apiKey: String?

    func register(on router: Router<BasicRequestContext>) {
        router.get("bills/:merchant/:file") { request, context in
            try self.serve(
                request, merchant: context.parameters.require("merchant"), file: context.parameters.require("file"))
        }
    }

    private func serve(_ request: Request, merchant: String, file: String) throws -> Response {
        let digits = String(file.prefix { $0.isNumber })
        guard digits.count == 8, merchant.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }),
            let day = LocalDay("\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))")
        else { return Response(status: .notFound) }
        let date = day.description
        stats.enter("bank")
        if let apiKey, request.headers[.apiKey] != apiKey {
            stats.leave("bank")
            return Response(
                status: .unauthorized, body: ResponseBody(byteBuffer: .init(string: "X-Api-Key missing or wrong")))
        }
        let sidecar = file.hasSuffix(".sha256")
        let apiKinds: Set<Fault.Kind> = [.fail503, .rateLimit429, .notReady, .authError]
        if let fault = faults.take(channel: "bank", date: date, kinds: apiKinds) {
            stats.leave("bank")
            return MockResponses.plain(for: fault)
        }
        let path: String
        let contentType: String
        let served = sidecar ? String(file.dropLast(".sha256".count)) : file
        do {
            (path, contentType) = try resolve(served: served, merchant: merchant, day: day, date: date)
        } catch {
            stats.leave("bank")
            throw error
        }
        if sidecar {
            defer { stats.leave("bank") }
            var digest = try MockDigest.sha256(path: path)
            if faults.take(channel: "bank", date: date, kinds: [.wrongHash]) != nil {
                digest = String(digest.reversed())
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: ResponseBody(byteBuffer: .init(string: "\(digest)  \(served)\n")))
        }
        let fault = faults.take(channel: "bank", date: date, kinds: [.cutBody, .truncatedBody, .slow, .corruptArchive])
        return files.respond(file: path, channel: "bank", request: request, fault: fault, contentType: contentType)
    }
}

extension BankRoutes {
    /// The file a bank URL names, generated or packed on first request, and its content type.
    func resolve(served: String, merchant: String, day: LocalDay, date: String) throws -> (String, String) {
        let empty = faults.contains(channel: "bank", date: date, kind: .noBusiness)
        let csvExtension = empty ? "empty.csv" : "csv"
        let csv = try store.file(at: store.path(channel: "bank", merchant: merchant, day: day, ext: csvExtension)) {
            temporary in
            try MockBills.write(
                .bank, to: temporary, merchant: merchant, day: day, lines: empty ? 0 : store.linesPerDay)
        }
        // The packing the URL asks for: a given file under that name wins, else the CSV is packed.
        if served.hasSuffix(".csv.gz") {
            let gz = try store.file(
                at: store.path(channel: "bank", merchant: merchant, day: day, ext: csvExtension + ".gz")
            ) {
                try MockPacking.gzip(csv, to: $0)
                return nil
            }
            return (gz, "application/gzip")
        }
        if served.hasSuffix(".zip") {
            let zip = try store.file(
                at: store.path(channel: "bank", merchant: merchant, day: day, ext: csvExtension + ".zip")
            ) {
                try MockPacking.zip([(Array("\(MockBillStore.compact(day)).csv".utf8), csv)], to: $0)
                return nil
            }
            return (zip, "application/zip")
        }
        return (csv, "text/csv; charset=utf-8")
    }
}

/// Answers for the faults that replace a response.
enum MockResponses {
    static func plain(for fault: Fault) -> Response {
        switch fault.kind {
        case .rateLimit429:
            return Response(
                status: .tooManyRequests, headers: [HTTPField.Name.retryAfter: "\(fault.argument ?? 1)"],
                body: ResponseBody(byteBuffer: .init(string: "slow down")))
        case .notReady:
            return Response(status: .notFound, body: ResponseBody(byteBuffer: .init(string: "not published yet")))
        case .authError:
            return Response(status: .unauthorized, body: ResponseBody(byteBuffer: .init(string: "bad credentials")))
        default:
            return Response(
                status: .serviceUnavailable, body: ResponseBody(byteBuffer: .init(string: "try again later")))
        }
    }
}
