import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ReconCore
import ReconDashboard
import ReconJobs
import ReconPostgres
import ReconTestSupport
import Testing

@testable import ReconCoordinator

/// The dashboard's login, session and CSRF rules, in-process through Hummingbird's router test
/// client against a throwaway cluster (the browser test drives the same pages in Chromium).
@Suite(.tags(.integration), .skippedWhenFast) struct DashboardRouteTests {
    static let token = "dashboard-test-token-0123456789"

    struct Rig: Sendable {
        let client: any TestClientProtocol
        let pool: PGPool

        func get(_ path: String, cookies: [String: String] = [:]) async throws -> TestResponse {
            try await client.execute(uri: path, method: .get, headers: Self.headers(cookies), body: nil)
        }

        func post(
            _ path: String, _ fields: [(String, String)], cookies: [String: String] = [:], extra: HTTPFields = [:]
        ) async throws -> TestResponse {
            var headers = Self.headers(cookies)
            headers.append(contentsOf: extra)
            headers[.contentType] = "application/x-www-form-urlencoded"
            return try await client.execute(
                uri: path, method: .post, headers: headers, body: ByteBuffer(string: FormURLEncoding.encode(fields)))
        }

        static func headers(_ cookies: [String: String]) -> HTTPFields {
            var headers = HTTPFields()
            if !cookies.isEmpty {
                headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: "; ")
            }
            return headers
        }

        /// Logs in through the form as a browser does; returns the session cookie's value.
        func login(name: String = "Li Lei", token: String = DashboardRouteTests.token, extra: HTTPFields = [:])
            async throws -> TestResponse
        {
            let form = try await get("/login")
            let nonce = try #require(Self.cookie("recon_login", in: form))
            let csrf = try #require(Self.csrf(in: form))
            return try await post(
                "/login", [("name", name), ("token", token), ("csrf", csrf), ("next", "/jobs")],
                cookies: ["recon_login": nonce], extra: extra)
        }

        func session() async throws -> String {
            let response = try await login()
            #expect(response.status == .seeOther)
            return try #require(Self.cookie("recon_session", in: response))
        }

        static func cookie(_ name: String, in response: TestResponse) -> String? {
            response.headers[values: .setCookie].compactMap { header -> String? in
                guard header.hasPrefix(name + "=") else { return nil }
                return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
            }.first
        }

        static func csrf(in response: TestResponse) -> String? {
            let html = String(buffer: response.body)
            guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func withDashboard(_ test: @Sendable (Rig) async throws -> Void) async throws {
        let database = try await TestPostgres.migratedDatabase("dashboard-routes")
        let pool = PGPool(connectionString: database, maxConnections: 4)
        defer { pool.close() }
        let log = LogRecorder()
        let configuration = CoordinatorConfiguration(databaseURL: database, apiToken: Self.token)
        let dashboard = await Dashboard.load(pool: pool, apiToken: Self.token, logger: log.logger())
        let router = Coordinator.router(
            configuration, pool: pool, wakeups: JobWakeups(),
            outcomes: JobOutcomeLog(logger: log.logger(), fields: .init()),
            dashboard: dashboard)
        try await Application(router: router).test(.router) { client in
            try await test(Rig(client: client, pool: pool))
        }
        // The token never reaches a log line.
        #expect(!log.lines.map(\.description).joined(separator: "\n").contains(Self.token))
    }

    @Test func pagesWantALoginThatTheAPITokenOpens() async throws {
        try await withDashboard { rig in
            for path in ["/", "/jobs", "/days/2026-11-30", "/days/2026-11-30/settlement.csv"] {
                let response = try await rig.get(path)
                #expect(response.status == .seeOther, "\(path)")
                #expect(response.headers[.location] == "/login?" + FormURLEncoding.encode([("next", path)]))
            }
            let wrong = try await rig.login(token: "dashboard-test-token-0123456780")
            #expect(wrong.status == .unauthorized)
            #expect(Rig.cookie("recon_session", in: wrong) == nil)
            #expect(!String(buffer: wrong.body).contains("dashboard-test-token-0123456780"))

            let right = try await rig.login()
            #expect(right.status == .seeOther)
            #expect(right.headers[.location] == "/jobs")
            let header = try #require(right.headers[values: .setCookie].first { $0.hasPrefix("recon_session=") })
            #expect(header.contains("HttpOnly"))
            #expect(header.contains("SameSite=Strict"))
            #expect(header.contains("Path=/"))
            // The cookie is a mac, not the token.
            #expect(!header.contains(Self.token))
            let session = try #require(Rig.cookie("recon_session", in: right))
            let page = try await rig.get("/jobs", cookies: ["recon_session": session])
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(String(buffer: page.body).contains("Li Lei"))

            // A cookie someone edited (another name, the same mac) is no session.
            let parts = session.split(separator: ".")
            let forged = (["TWFsbG9yeQ"] + parts.dropFirst()).joined(separator: ".")
            #expect(try await rig.get("/jobs", cookies: ["recon_session": forged]).status == .seeOther)
        }
    }

    @Test func theLoginFormItselfWantsItsCSRFTokenAndOnlyGoesBackToThisServer() async throws {
        try await withDashboard { rig in
            let form = try await rig.get("/login?next=%2F%2Fevil.example%2Fx")
            #expect(String(buffer: form.body).contains(#"name="next" value="/""#))
            let nonce = try #require(Rig.cookie("recon_login", in: form))
            let csrf = try #require(Rig.csrf(in: form))
            let withoutCSRF = try await rig.post(
                "/login", [("name", "x"), ("token", Self.token)], cookies: ["recon_login": nonce])
            #expect(withoutCSRF.status == .forbidden)
            let elsewhere = try await rig.post(
                "/login", [("name", "x"), ("token", Self.token), ("csrf", csrf), ("next", "//evil.example/x")],
                cookies: ["recon_login": nonce])
            #expect(elsewhere.status == .seeOther)
            #expect(elsewhere.headers[.location] == "/")
        }
    }

    @Test func everyPostIsRefusedWithoutTheSessionsCSRFToken() async throws {
        try await withDashboard { rig in
            let id = try await rig.pool.transaction {
                try JobLedger.enqueue([NewJob(kind: "probe", queue: "q")], on: $0)
            }[0].id
            try await rig.pool.query("UPDATE recon_jobs SET state = 'dead', finalized_at = now() WHERE id = $1", [id])
            let session = try await rig.session()
            let page = try await rig.get("/jobs", cookies: ["recon_session": session])
            let csrf = try #require(Rig.csrf(in: page))
            // Another session's token (another login) is not this one's.
            let other = try await rig.get("/jobs", cookies: ["recon_session": try await rig.session()])
            let otherCSRF = try #require(Rig.csrf(in: other))
            #expect(otherCSRF != csrf)
            for fields in [[], [("csrf", "")], [("csrf", otherCSRF)], [("csrf", String(csrf.dropLast()) + "0")]] {
                let refused = try await rig.post("/jobs/\(id)/retry", fields, cookies: ["recon_session": session])
                #expect(refused.status == .forbidden, "\(fields)")
                let state = try await rig.pool.query("SELECT state FROM recon_jobs WHERE id = $1", [id]).first?.decode(
                    String.self, at: 0)
                #expect(state == "dead")
            }
            let refusedResolve = try await rig.post(
                "/days/2026-11-30/resolve", [("id", "c1"), ("note", "x")], cookies: ["recon_session": session])
            #expect(refusedResolve.status == .forbidden)
            let refusedLogout = try await rig.post("/logout", [], cookies: ["recon_session": session])
            #expect(refusedLogout.status == .forbidden)

            let retried = try await rig.post("/jobs/\(id)/retry", [("csrf", csrf)], cookies: ["recon_session": session])
            #expect(retried.status == .seeOther)
            #expect(retried.headers[.location] == "/jobs?retried=\(id)")
            let state = try await rig.pool.query("SELECT state FROM recon_jobs WHERE id = $1", [id]).first?.decode(
                String.self, at: 0)
            #expect(state == "available")
            // A second click finds nothing to retry, and says so.
            let again = try await rig.post("/jobs/\(id)/retry", [("csrf", csrf)], cookies: ["recon_session": session])
            #expect(again.headers[.location] == "/jobs?notice=not-retryable")
        }
    }

    @Test func whatTheDatabaseHoldsIsEscapedAndAResolutionRecordsWhoAndWhy() async throws {
        try await withDashboard { rig in
            let id = try #require(
                try await rig.pool.query(
                    """
                    INSERT INTO recon_results (channel, bill_date, channel_txn_id, match_refund_key, key_hash, status,
                        channel_amount_fen, channel_moved)
                    VALUES ('bank<b>', '2026-11-30', 'T<script>alert(1)</script>', '', 1, 'channel_only', 1234567, true)
                    RETURNING id
                    """
                ).first?.decode(Int64.self, at: 0))
            try await rig.pool.query(
                "INSERT INTO recon_channel_days (channel, bill_date) VALUES ('bank<b>', '2026-11-30')")
            try await rig.pool.query(
                """
                INSERT INTO recon_summaries (channel, bill_date, status, items, channel_amount_fen, internal_amount_fen)
                VALUES ('bank<b>', '2026-11-30', 'channel_only', 1, 1234567, 0)
                """)
            let session = try await rig.session()
            let days = try await rig.get("/", cookies: ["recon_session": session])
            let daysHTML = String(buffer: days.body)
            #expect(daysHTML.contains("bank&lt;b&gt;"))
            #expect(!daysHTML.contains("bank<b>"))
            let day = try await rig.get("/days/2026-11-30", cookies: ["recon_session": session])
            let html = String(buffer: day.body)
            #expect(!html.contains("<script>"))
            #expect(html.contains("T&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(html.contains("12,345.67"))
            let csrf = try #require(Rig.csrf(in: day))
            let resolved = try await rig.post(
                "/days/2026-11-30/resolve",
                [("csrf", csrf), ("id", "c\(id)"), ("note", "<i>bank fee</i>"), ("back", "https://evil.example/")],
                cookies: ["recon_session": session])
            #expect(resolved.status == .seeOther)
            #expect(resolved.headers[.location] == "/days/2026-11-30?resolved=c\(id)#item-c\(id)")
            let row = try #require(
                try await rig.pool.query(
                    "SELECT note, resolved_by FROM recon_resolutions WHERE key_a = 'T<script>alert(1)</script>'"
                )
                .first)
            #expect(try row.decode(String.self, at: 0) == "<i>bank fee</i>")
            #expect(try row.decode(String.self, at: 1) == "Li Lei")
            let after = String(buffer: try await rig.get("/days/2026-11-30", cookies: ["recon_session": session]).body)
            #expect(after.contains("&lt;i&gt;bank fee&lt;/i&gt;"))
            // A second resolution (another person, a stale tab) keeps the first and says so.
            let second = try await rig.post(
                "/days/2026-11-30/resolve", [("csrf", csrf), ("id", "c\(id)"), ("note", "something else")],
                cookies: ["recon_session": session])
            #expect(second.headers[.location] == "/days/2026-11-30?notice=already-resolved#item-c\(id)")
            let kept = try await rig.pool.query("SELECT note FROM recon_resolutions").rows.map {
                try $0.decode(String.self, at: 0)
            }
            #expect(kept == ["<i>bank fee</i>"])
            // An item of another day is not resolved through this day's page.
            let otherDay = try await rig.post(
                "/days/2026-12-01/resolve", [("csrf", csrf), ("id", "c\(id)"), ("note", "x")],
                cookies: ["recon_session": session])
            #expect(otherDay.headers[.location] == "/days/2026-12-01?notice=unknown-id")
            // Resolving what is not open says so.
            let again = try await rig.post(
                "/days/2026-11-30/resolve", [("csrf", csrf), ("id", "c999999"), ("note", "x")],
                cookies: ["recon_session": session])
            #expect(again.headers[.location] == "/days/2026-11-30?notice=unknown-id")
        }
    }

    @Test func behindATLSProxyTheSessionCookieIsSecure() async throws {
        try await withDashboard { rig in
            let plain = try await rig.login()
            let plainCookie = try #require(plain.headers[values: .setCookie].first { $0.hasPrefix("recon_session=") })
            #expect(!plainCookie.contains("Secure"))
            let proxied = try await rig.login(extra: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            let cookie = try #require(proxied.headers[values: .setCookie].first { $0.hasPrefix("recon_session=") })
            #expect(cookie.contains("Secure"))
        }
    }

    @Test func oneChannelPagesThroughAllItsDiscrepancies() async throws {
        try await withDashboard { rig in
            try await rig.pool.query(
                "INSERT INTO recon_channel_days (channel, bill_date) VALUES ('bank', '2026-11-30')")
            try await rig.pool.query(
                """
                INSERT INTO recon_results (channel, bill_date, channel_txn_id, match_refund_key, key_hash, status,
                    channel_amount_fen, channel_moved)
                SELECT 'bank', '2026-11-30', 'T' || lpad(n::text, 4, '0'), '', n, 'channel_only', n, true
                FROM generate_series(1, 503) n
                """)
            let session = try await rig.session()
            func rows(_ path: String) async throws -> (ids: [String], html: String) {
                let html = String(buffer: try await rig.get(path, cookies: ["recon_session": session]).body)
                let ids = html.components(separatedBy: "<tr id=\"item-").dropFirst().map {
                    String($0.prefix { $0 != "\"" })
                }
                return (ids, html)
            }
            let first = try await rows("/days/2026-11-30?channel=bank")
            #expect(first.ids.count == 500)
            #expect(first.html.contains("1 to 500"))
            #expect(
                first.html.contains(#"id="next-page" href="/days/2026-11-30?channel=bank&amp;page=1#discrepancies""#))
            #expect(!first.html.contains(#"id="previous-page""#))
            let second = try await rows("/days/2026-11-30?channel=bank&page=1")
            #expect(second.ids.count == 3)
            #expect(second.html.contains("501 to 503"))
            #expect(Set(first.ids).isDisjoint(with: second.ids))
            #expect(second.html.contains(#"id="previous-page""#))
            #expect(!second.html.contains(#"id="next-page""#))
            // All channels at once show the first 500 and say how to see the rest.
            let all = try await rows("/days/2026-11-30")
            #expect(all.ids.count == 500)
            #expect(all.html.contains("choose a channel or asset to page through the rest"))
        }
    }
}
