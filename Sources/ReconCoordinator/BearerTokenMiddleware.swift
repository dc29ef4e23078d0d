import Hummingbird
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

/// Equal length and equal bytes, looking at every byte whatever the first difference.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for index in 0..<max(a.count, b.count) {
        let left = index < a.count ? a[index] : 0
        let right = index < b.count ? b[index] : 0
        difference |= left ^ right
    }
    return difference == 0 && a.count == b.count
}
