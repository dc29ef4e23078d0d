import Foundation
import Hummingbird
import Logging
import NIOCore
import ReconJobs

/// Requests larger than this are refused before decoding (a lease call is a few hundred bytes).
let maxRequestBytes = 1 << 20

/// Reads and decodes a JSON body, or throws a 400 that says what was wrong with it.
func decodeBody<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
    let buffer: ByteBuffer
    do {
        buffer = try await request.body.collect(upTo: maxRequestBytes)
    } catch {
        throw APIFailure(
            status: .contentTooLarge, code: "bad_request", message: "the body is over \(maxRequestBytes) bytes")
    }
    do {
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    } catch let error as DecodingError {
        throw APIFailure(status: .badRequest, code: "bad_request", message: "malformed \(T.self): \(describe(error))")
    } catch {
        throw APIFailure(status: .badRequest, code: "bad_request", message: "malformed \(T.self)")
    }
}

/// The decoding error in a sentence, naming the field; values from the body are not repeated.
private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return keys.isEmpty ? "the body" : "field " + keys.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context): return "\(path(context)) is missing \(key.stringValue)"
    case .typeMismatch(let type, let context): return "\(path(context)) should be \(type)"
    case .valueNotFound(let type, let context): return "\(path(context)) should be \(type), found null"
    case .dataCorrupted(let context): return "\(path(context)) is not valid JSON"
    @unknown default: return "unreadable"
    }
}

/// An API error with its HTTP status; routes throw it and `APIFailureMiddleware` writes it out.
struct APIFailure: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    static func leaseLost(_ id: Int64) -> APIFailure {
        APIFailure(
            status: .conflict, code: "lease_lost", message: "the lease on job \(id) is no longer held by this token")
    }
}

func jsonResponse(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
    let data = (try? JSONEncoder().encode(value)) ?? Data(#"{"code":"internal","error":"encoding failed"}"#.utf8)
    return Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// Turns `APIFailure` into its JSON answer, and any other error into a 500 with a short text
/// (the full error goes to the log, not to the client).
struct APIFailureMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let failure as APIFailure {
            return jsonResponse(status: failure.status, APIErrorBody(code: failure.code, error: failure.message))
        } catch let error as HTTPError {
            return jsonResponse(
                status: error.status, APIErrorBody(code: "bad_request", error: error.body ?? "\(error.status)"))
        } catch {
            context.logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(error)"])
            return jsonResponse(
                status: .internalServerError,
                APIErrorBody(code: "internal", error: "the coordinator failed; see its log"))
        }
    }
}
