import Hummingbird
import ReconCore
import ReconJobs

/// Refuses any request without `Authorization: Bearer <token>` matching the configured token,
/// before the route runs, so nothing changes. The comparison takes the same time however many
/// leading bytes match, so the token cannot be guessed byte by byte from response times.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            constantTimeEquals(Array(header.utf8.dropFirst(7)), token)
        else {
            return jsonResponse(
                status: .unauthorized, APIErrorBody(code: "unauthorized", error: "missing or wrong bearer token"))
        }
        return try await next(request, context)
    }
}
