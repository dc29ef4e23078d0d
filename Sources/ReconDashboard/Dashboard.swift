import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import Mustache
import NIOCore
import ReconCore
import ReconJobs
import ReconMatching
public import ReconPostgres
import ReconReconcile
import ReconStore

/// The operators' dashboard, served by every coordinator at `/`: the days, one day's
/// discrepancies and settlement, the jobs. Server-rendered HTML from the Mustache templates in
/// `Templates/` (shipped as resources, or installed in PREFIX/share/recon/dashboard); no script,
/// no asset from elsewhere. Reading needs a login with the API token (`DashboardSession`); every
/// POST carries the session's CSRF token.
public struct Dashboard: Sendable {
    let pool: PGPool
    let session: DashboardSession
    let templates: MustacheLibrary?
    /// Why there are no templates, shown instead of every page.
    let missing: String?
    let logger: Logger

    /// Loads the templates. Without them the coordinator still leases; the dashboard's pages say
    /// what is missing.
    public static func load(pool: PGPool, apiToken: String, logger: Logger) async -> Dashboard {
        do {
            let folder = try ShippedFolder.find(
                environment: "RECON_DASHBOARD_DIR", bundle: "Recon_ReconDashboard.resources/Templates",
                share: "dashboard")
            let library = try await MustacheLibrary(directory: folder)
            return Dashboard(
                pool: pool, session: DashboardSession(apiToken: Array(apiToken.utf8)), templates: library, missing: nil,
                logger: logger)
        } catch {
            logger.error("the dashboard cannot load its templates", metadata: ["error": "\(error)"])
            return Dashboard(
                pool: pool, session: DashboardSession(apiToken: Array(apiToken.utf8)), templates: nil,
                missing: "the dashboard's templates could not be loaded: \(error)", logger: logger)
        }
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/login") { request, _ in
            try await loginPage(
                request, next: request.uri.queryParameters["next"].map(String.init), error: nil, name: "", status: .ok)
        }
        router.post("/login") { request, _ in try await login(request) }
        router.post("/logout") { request, _ in try await logout(request) }
        router.get("/") { request, _ in
            try await page(request) { chrome in
                let through = request.uri.queryParameters["through"].flatMap { LocalDay(String($0)) }
                let page = try await read { try DaysPage.load(through: through, chrome: chrome, on: $0) }
                return try render(page, "days")
            }
        }
        router.get("/days/:date") { request, context in
            try await page(request) { chrome in
                guard let day = context.parameters.get("date").flatMap(LocalDay.init) else {
                    return plain(.notFound, "no such day: the address takes a date as YYYY-MM-DD")
                }
                let query = request.uri.queryParameters
                let filter = DayPage.Filter(
                    channel: query["channel"].map(String.init).flatMap { $0.isEmpty ? nil : $0 },
                    status: query["status"].flatMap { MatchStatus(rawValue: String($0)) },
                    openOnly: query["open"] == "1",
                    page: query["page"].flatMap { Int(String($0)) }.map { min(max($0, 0), 100_000) } ?? 0)
                let flash = query["resolved"].map(String.init).flatMap(Self.discrepancyID).map { "\($0) is resolved." }
                let problem =
                    query["notice"] == "unknown-id" ? "That discrepancy is not open (or does not exist)." : nil
                let page = try await pool.withConnection {
                    try DayPage.load(day: day, filter: filter, chrome: chrome, flash: flash, problem: problem, on: $0)
                }
                return try render(page, "day")
            }
        }
        router.get("/days/:date/settlement.csv") { request, context in
            try await page(request) { _ in
                guard let day = context.parameters.get("date").flatMap(LocalDay.init) else {
                    return plain(.notFound, "no such day")
                }
                guard let rows = try await read({ try DayReport.settlement(day: day, on: $0) }) else {
                    return plain(.notFound, "\(day) is not settled")
                }
                var headers = Self.securityHeaders
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"settlement-\(day).csv\""
                return Response(
                    status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: SettlementCSV.text(rows)))
                )
            }
        }
        router.post("/days/:date/resolve") { request, context in
            try await form(request) { fields, user in
                guard let day = context.parameters.get("date").flatMap(LocalDay.init) else {
                    return plain(.notFound, "no such day")
                }
                let back = fields["back"].flatMap { $0.hasPrefix("/days/\(day)") ? $0 : nil } ?? "/days/\(day)"
                let separator = back.contains("?") ? "&" : "?"
                let note = (fields["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard let id = fields["id"].flatMap(Self.discrepancyID), !note.isEmpty, note.count <= 2000 else {
                    return plain(
                        .badRequest, "a resolution needs the discrepancy's id and a note of at most 2000 characters")
                }
                let outcome = try await pool.withConnection {
                    try DayReport.resolveOnce(id: id, note: note, by: user, day: day, on: $0)
                }
                switch outcome {
                case .resolved(let what):
                    logger.notice(
                        "discrepancy resolved on the dashboard",
                        metadata: ["id": "\(id)", "item": "\(what)", "by": "\(user)"])
                    return Response.redirect(to: back + separator + "resolved=\(id)#item-\(id)")
                case .alreadyResolved:
                    return Response.redirect(to: back + separator + "notice=already-resolved#item-\(id)")
                case .notOpen:
                    return Response.redirect(to: back + separator + "notice=unknown-id")
                }
            }
        }
        router.get("/jobs") { request, _ in
            try await page(request) { chrome in
                let query = request.uri.queryParameters
                let day = query["date"].flatMap { LocalDay(String($0)) }
                let flash = query["retried"].flatMap { Int64(String($0)) }.map { "Job \($0) is available again." }
                let problem: String? =
                    switch query["notice"] {
                    case "unknown-job": "There is no such job."
                    case "not-retryable":
                        "That job is not dead, cancelled, retryable or scheduled: there is nothing to retry."
                    default: nil
                    }
                let page = try await read {
                    try JobsPage.load(fetchDay: day, chrome: chrome, flash: flash, problem: problem, on: $0)
                }
                return try render(page, "jobs")
            }
        }
        router.post("/jobs/:id/retry") { request, context in
            try await form(request) { _, user in
                guard let id = context.parameters.get("id").flatMap(Int64.init) else {
                    return plain(.notFound, "no such job")
                }
                let before: JobState?
                do {
                    before = try await pool.withConnection { connection in
                        try connection.transaction { try JobLedger.retry(id, on: $0) }
                    }
                } catch is JobError {
                    // Running, available or completed (a second click, say): nothing to retry.
                    return Response.redirect(to: "/jobs?notice=not-retryable")
                }
                guard let before else { return Response.redirect(to: "/jobs?notice=unknown-job") }
                logger.notice(
                    "job retried on the dashboard",
                    metadata: ["job": "\(id)", "was": "\(before.rawValue)", "by": "\(user)"])
                return Response.redirect(to: "/jobs?retried=\(id)")
            }
        }
    }

    // MARK: Login

    func loginPage(_ request: Request, next: String?, error: String?, name: String, status: HTTPResponse.Status)
        async throws -> Response
    {
        // The pre-login cookie the form's CSRF token is made from.
        let nonce =
            request.cookies[DashboardSession.loginCookieName].map(\.value).flatMap {
                DashboardSession.isNonce($0) ? $0 : nil
            } ?? DashboardSession.nonce()
        let next = Self.localPath(next) ?? "/"
        struct Login { var csrf, next, name: String; var error: String? }
        var response = try render(
            Login(csrf: session.csrf(forCookie: "login:" + nonce), next: next, name: name, error: error), "login",
            status: status)
        response.setCookie(
            Cookie(
                name: DashboardSession.loginCookieName, value: nonce, maxAge: 3600, path: "/",
                secure: Self.behindTLS(request), httpOnly: true, sameSite: .strict))
        return response
    }

    func login(_ request: Request) async throws -> Response {
        let fields = try await Self.formFields(request)
        guard let nonce = request.cookies[DashboardSession.loginCookieName]?.value,
            session.acceptsCSRF(fields["csrf"], forCookie: "login:" + nonce)
        else { return Self.refusedForm() }
        let name = (fields["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 64,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            return try await loginPage(
                request, next: fields["next"], error: "Give your name (at most 64 characters).", name: "",
                status: .badRequest)
        }
        guard session.acceptsToken(fields["token"] ?? "") else {
            logger.warning("dashboard login refused: wrong token", metadata: ["name": "\(name)"])
            return try await loginPage(
                request, next: fields["next"], error: "That is not the API token.", name: name, status: .unauthorized)
        }
        let cookie = session.start(user: name, now: Self.now())
        var response = Response.redirect(to: Self.localPath(fields["next"]) ?? "/")
        response.setCookie(
            Cookie(
                name: DashboardSession.cookieName, value: cookie, maxAge: Int(DashboardSession.lifetimeSeconds),
                path: "/", secure: Self.behindTLS(request), httpOnly: true, sameSite: .strict))
        logger.notice("dashboard login", metadata: ["name": "\(name)"])
        return response
    }

    func logout(_ request: Request) async throws -> Response {
        try await form(request) { _, _ in
            var response = Response.redirect(to: "/login")
            response.setCookie(
                Cookie(
                    name: DashboardSession.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true,
                    sameSite: .strict))
            return response
        }
    }

    // MARK: Pages and forms

    /// A page's reads: one read-only snapshot (a rerun of the day half-way through a page does
    /// not mix two states), cut off after 15 s so that no page holds the dashboard's connections.
    func read<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await pool.withConnection { connection in
            try connection.transaction(name: "dashboard page") { connection in
                try connection.query(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", name: "dashboard: snapshot")
                try connection.query("SET LOCAL statement_timeout = '15s'", name: "dashboard: time limit")
                return try body(connection)
            }
        }
    }

    /// A page for a logged-in user; others are sent to the login form, and back here after it.
    func page(_ request: Request, _ body: (Chrome) async throws -> Response) async throws -> Response {
        // The details (folders looked in) are in the coordinator's log, not for anyone who asks.
        if missing != nil {
            return plain(
                .internalServerError,
                "the dashboard's templates are not installed; the coordinator's log says where it looked")
        }
        guard let cookie = request.cookies[DashboardSession.cookieName]?.value,
            let user = session.user(cookie: cookie, now: Self.now())
        else {
            let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return Response.redirect(to: "/login?" + FormURLEncoding.encode([("next", here)]))
        }
        do {
            return try await body(Chrome(user: user, csrf: session.csrf(forCookie: cookie)))
        } catch let error as PGError {
            logger.error(
                "a dashboard page could not read the database",
                metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return plain(.serviceUnavailable, "The database did not answer; reload in a moment.")
        }
    }

    /// A POST from a logged-in user's form, refused without the session's CSRF token.
    func form(_ request: Request, _ body: ([String: String], String) async throws -> Response) async throws -> Response
    {
        let fields = try await Self.formFields(request)
        guard let cookie = request.cookies[DashboardSession.cookieName]?.value,
            let user = session.user(cookie: cookie, now: Self.now())
        else { return Response.redirect(to: "/login") }
        guard session.acceptsCSRF(fields["csrf"], forCookie: cookie) else { return Self.refusedForm() }
        return try await page(request) { _ in try await body(fields, user) }
    }

    func render(_ page: Any, _ template: String, status: HTTPResponse.Status = .ok) throws -> Response {
        guard let templates, let html = templates.render(page, withTemplate: template) else {
            return plain(.internalServerError, "the dashboard has no template \(template)")
        }
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func refusedForm() -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(
            status: .forbidden, headers: headers,
            body: .init(
                byteBuffer: ByteBuffer(
                    string:
                        "refused: the form's CSRF token is missing or is not this session's; reload the page and try again\n"
                )))
    }

    /// No script runs, nothing loads from elsewhere, no other site frames the pages, and no
    /// page is cached (they show money and who resolved what). The layout's meta tag keeps
    /// addresses out of Referer headers.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-store",
    ]

    static func formFields(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        return FormURLEncoding.decode(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    /// `c123` or `v45`, as `recon discrepancies` prints them.
    static func discrepancyID(_ text: String) -> String? {
        guard let first = text.first, first == "c" || first == "v", text.count > 1, text.count < 20,
            text.dropFirst().allSatisfy(\.isASCII), Int64(text.dropFirst()) != nil
        else { return nil }
        return text
    }

    /// Only a path on this server: `/x`, never `//host` or `https://…`.
    static func localPath(_ text: String?) -> String? {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\"),
            !text.unicodeScalars.contains(where: { $0.value < 0x20 })
        else { return nil }
        return text
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// A TLS proxy in front says so; its cookies are then Secure (never sent over plain HTTP).
    static func behindTLS(_ request: Request) -> Bool {
        request.headers.contains {
            $0.name.canonicalName == "x-forwarded-proto" && $0.value.lowercased() == "https"
        }
    }
}
