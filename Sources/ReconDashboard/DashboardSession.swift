import Crypto
import Foundation
import ReconCore

/// The dashboard's login, without server-side state, so that any coordinator of a deployment
/// (they share the API token) accepts a session another one started:
/// - the session cookie is `name.expiry.nonce.mac`, the mac an HMAC-SHA256 keyed by the API
///   token (the token itself never leaves the server), the nonce making each login's distinct;
/// - a form's CSRF token is an HMAC of the session cookie, so a page of another site, which can
///   neither read the cookie nor compute the mac, cannot forge a POST;
/// - the login form's CSRF token is an HMAC of a random pre-login cookie in the same way.
/// Changing the API token ends every session.
struct DashboardSession: Sendable {
    static let cookieName = "recon_session"
    static let loginCookieName = "recon_login"
    static let lifetimeSeconds: Int64 = 12 * 3600

    /// The mac key's bytes (SymmetricKey itself is not Sendable).
    let keyBytes: [UInt8]
    let token: [UInt8]

    init(apiToken: [UInt8]) {
        self.token = apiToken
        // A key of its own derived from the token, so a mac here is never a mac anywhere else.
        self.keyBytes = Array(
            HMAC<SHA256>.authenticationCode(for: Array("recon dashboard".utf8), using: SymmetricKey(data: apiToken)))
    }

    /// Whether a login form's token is the API token, compared in constant time.
    func acceptsToken(_ candidate: String) -> Bool {
        constantTimeEquals(Array(candidate.utf8), token)
    }

    /// A new session for `user` (who is recorded on resolutions), as a cookie value.
    func start(user: String, now: Int64) -> String {
        let name = Self.base64URL(Array(user.utf8))
        let body = "\(name).\(now + Self.lifetimeSeconds).\(Self.nonce())"
        return body + "." + mac("session:" + body)
    }

    /// The session's user, when the cookie is one this deployment made and has not expired.
    func user(cookie: String?, now: Int64) -> String? {
        guard let cookie else { return nil }
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, let expires = Int64(parts[1]), expires > now,
            constantTimeEquals(Array(parts[3].utf8), Array(mac("session:\(parts[0]).\(parts[1]).\(parts[2])").utf8)),
            let name = Self.fromBase64URL(String(parts[0]))
        else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    /// The CSRF token every form of this session carries.
    func csrf(forCookie cookie: String) -> String { mac("csrf:" + cookie) }

    func acceptsCSRF(_ candidate: String?, forCookie cookie: String) -> Bool {
        guard let candidate else { return false }
        return constantTimeEquals(Array(candidate.utf8), Array(csrf(forCookie: cookie).utf8))
    }

    /// A random value for the pre-login cookie.
    static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// What `nonce()` makes: 32 hexadecimal digits (anything else in the cookie is replaced).
    static func isNonce(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private func mac(_ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: keyBytes)).map {
            String(format: "%02x", $0)
        }.joined()
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func fromBase64URL(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}
