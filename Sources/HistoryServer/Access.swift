import Canonical
import Foundation
import Hummingbird

/// Who may read and act: the bearer token of the API, the login cookie of the pages, and
/// the CSRF token every form posts.
///
/// Without a token (the default, on 127.0.0.1) every request is let in; forms still carry
/// the CSRF token, because another site open in the same browser can post to a
/// loopback address. The CSRF token is random per server process: a page of this
/// server holds it, another origin cannot read it.
struct Access: Sendable {
    /// The token, or nil when the server has none.
    let token: String?
    /// The value of the login cookie: derived from the token, so a restart keeps
    /// logins, and the token itself never sits in a cookie.
    let sessionValue: String?
    /// What each form posts as `csrf`.
    let csrfToken: String

    static let cookieName = "mlpipe_session"

    init(token: String?) {
        self.token = token
        sessionValue = token.map { SHA256Hasher.digest(of: Array("mlpipe-session\u{0}\($0)".utf8)).hex }
        var generator = SystemRandomNumberGenerator()
        csrfToken = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
    }

    /// Whether `request` may see `path`. The login page and its POST are always open.
    func allows(_ request: Request, path: String) -> Bool {
        guard token != nil, let sessionValue else { return true }
        if path == "/login" || carriesToken(request) { return true }
        if let cookie = Self.cookie(Self.cookieName, in: request), Self.same(cookie, sessionValue) { return true }
        return false
    }

    /// Whether `request` carries this server's token as `Authorization: Bearer`: a header
    /// a page of another site cannot make a browser send.
    func carriesToken(_ request: Request) -> Bool {
        guard let token, let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        return Self.same(String(header.dropFirst(7)), token)
    }

    /// Why an API POST (`/api/v1/runs/ID/rerun`, `…/cancel`) may not act, or nil when it
    /// may: the API's stand-in for the forms' CSRF token, which a client of the API does
    /// not have.
    ///
    /// A request with the bearer token cannot have been forged by another site. Any other
    /// (a server without a token, or a browser with the login cookie) must show that no
    /// page of another site sent it: a browser names that page in `Origin` (and
    /// `Sec-Fetch-Site`) on every cross-origin POST, and a page can post across origins
    /// without asking only as a form (`application/x-www-form-urlencoded`,
    /// `multipart/form-data`, `text/plain`), so those are refused too. A JSON body, or
    /// none, from a client that sends no `Origin` (curl, a CI job, a script) passes.
    func refusesForeignPost(_ request: Request) -> String? {
        if carriesToken(request) { return nil }
        let host = request.head.authority ?? ""
        if let origin = request.headers[.origin], origin != "http://" + host, origin != "https://" + host {
            return "a page of another site (Origin \(origin)) cannot start or cancel runs here; call the API from a "
                + "client such as curl or a script, or press the button on this server's run page"
        }
        if let site = request.headers[.init("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) {
            return "a page of another site (Sec-Fetch-Site: \(site)) cannot start or cancel runs here; call the API "
                + "from a client such as curl or a script, or press the button on this server's run page"
        }
        let type = (request.headers[.contentType] ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        if ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"].contains(type) {
            return "the API takes a JSON body (Content-Type: application/json) or none, not \(type), which any web page "
                + "could post here; resend it as JSON, or with `Authorization: Bearer TOKEN`"
        }
        return nil
    }

    /// The value of the cookie `name`, if the request sent it.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return String(parts[1]).trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// Compares in time that does not depend on where the strings differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    /// The `Set-Cookie` value of a login.
    var loginCookie: String? {
        sessionValue.map { "\(Self.cookieName)=\($0); Path=/; HttpOnly; SameSite=Strict" }
    }
}
