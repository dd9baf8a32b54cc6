import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Labels

/// Who is using the console: their tokens, kept in cookies the page's scripts cannot
/// read (`HttpOnly`), that are only sent over HTTPS or loopback (`Secure`) and never
/// with a request another site starts (`SameSite=Strict`); and the label their requests
/// start at. See docs/console.md for why cookies and not a token in the page.
struct ConsoleSession: Sendable {
    /// The access token, sent to the API as `Authorization: Bearer`.
    var token: String
    /// The refresh token, used once the access token has expired, and revoked on sign-out.
    var refreshToken: String?
    /// `X-Faasten-Label` of the person's requests (the context's start label; default `T,T`).
    var label: Label

    static let tokenCookie = "faasten_session"
    static let refreshCookie = "faasten_refresh"
    static let labelCookie = "faasten_label"
    /// A random value a signed-out form echoes (sign in, register): a page on another
    /// site can neither read nor set it, so it cannot sign a person in as someone else.
    static let formCookie = "faasten_form"

    /// The session in `request`'s cookies, if any.
    init?(_ request: Request) {
        guard let token = request.cookies[Self.tokenCookie]?.value, !token.isEmpty else { return nil }
        self.token = token
        refreshToken = request.cookies[Self.refreshCookie]?.value
        label = Self.label(request)
    }

    init(token: String, refreshToken: String?, label: Label) {
        self.token = token
        self.refreshToken = refreshToken
        self.label = label
    }

    /// The start label chosen on the console (a malformed cookie counts as none).
    static func label(_ request: Request) -> Label {
        request.cookies[labelCookie].flatMap { try? Label(parsing: $0.value.removingPercentEncoding ?? "") } ?? .public
    }

    /// The token that proves a form came from a console page of this session: a hash of
    /// the session's access token (which no other site can read), so no server state is
    /// needed and every gateway of a cluster agrees.
    var csrfToken: String { Self.digest("faasten-console-form:" + token) }

    static func digest(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A cookie with the console's attributes.
    static func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }

    /// Cookies that remove a session.
    static var removal: [Cookie] {
        [tokenCookie, refreshCookie].map { cookie($0, "", maxAge: 0) }
    }

    /// Cookies that keep this session (the refresh token lives as long as the API says).
    func cookies(tokenLifetime: Int?, refreshLifetime: Int?) -> [Cookie] {
        var cookies = [Self.cookie(Self.tokenCookie, token, maxAge: tokenLifetime)]
        if let refreshToken { cookies.append(Self.cookie(Self.refreshCookie, refreshToken, maxAge: refreshLifetime)) }
        return cookies
    }
}

/// A submitted form: `application/x-www-form-urlencoded` fields.
struct ConsoleForm: Sendable {
    var fields: [String: String]

    init(fields: [String: String]) { self.fields = fields }

    /// Parses `name=value&…` (`+` is a space, then percent-decoding); a repeated name
    /// keeps its last value.
    init(urlEncoded bytes: [UInt8]) {
        var fields: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        self.fields = fields
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// A field with surrounding blanks removed; `nil` when empty.
    func trimmed(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}

/// Whether a state-changing request comes from the console's own pages: the browser's
/// `Sec-Fetch-Site` and `Origin` (when it sends them) must say same-origin, and the form
/// must carry the expected token (compared in constant time).
enum ConsoleForgery {
    static func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" { return false }
        if let origin = request.headers[.origin] {
            guard let host = request.head.authority else { return false }
            guard let url = URL(string: origin), let originHost = url.host else { return false }
            let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
            return originAuthority.lowercased() == host.lowercased()
        }
        return true
    }

    static func matches(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
