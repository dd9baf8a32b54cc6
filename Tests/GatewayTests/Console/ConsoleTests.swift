import AsyncHTTPClient
import FaastenTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The web console's HTTP behaviour on a real `faasten serve`: its headers, `GET /` for
/// a browser and for curl, escaping of what users wrote, forms that did not come from a
/// console page, and refusals that are the API's own.
@Suite("web console over HTTP", .serialized)
struct ConsoleTests {
    static let html = ["Accept": "text/html"]
    static let xssName = "<img src=x onerror=alert(1)>.txt"

    /// A client that shows redirects instead of following them.
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    static func send(_ method: HTTPMethod, _ url: String, body: [UInt8]? = nil, headers: [String: String]) async throws -> ServedPlatform.Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return ServedPlatform.Reply(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
    }

    /// A browser's cookie jar, kept by hand.
    struct Browser {
        let server: ServedPlatform
        var cookies: [String: String] = [:]

        var cookieHeader: [String: String] {
            cookies.isEmpty ? [:] : ["Cookie": cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
        }

        mutating func keep(_ reply: ServedPlatform.Reply) {
            for header in reply.headers["Set-Cookie"] {
                let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
                cookies[pair[0]] = pair.count > 1 && !header.contains("Max-Age=0") ? pair[1] : nil
            }
        }

        mutating func get(_ path: String) async throws -> ServedPlatform.Reply {
            let reply = try await ConsoleTests.send(.GET, server.url + path, headers: ConsoleTests.html.merging(cookieHeader) { $1 })
            keep(reply)
            return reply
        }

        mutating func post(_ path: String, _ fields: [String: String], headers: [String: String] = [:]) async throws -> ServedPlatform.Reply {
            let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
            let reply = try await ConsoleTests.send(
                .POST, server.url + path, body: Array(body.utf8),
                headers: ["Content-Type": "application/x-www-form-urlencoded"].merging(cookieHeader) { $1 }.merging(headers) { $1 })
            keep(reply)
            return reply
        }

        static func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        }

        /// Signs in through the sign-in form; returns the form token of the session.
        mutating func signIn(_ name: String) async throws -> String {
            _ = try await get("/")
            let form = try #require(cookies["faasten_form"])
            let reply = try await post("/console/signin", ["form": form, "name": name, "password": "\(name)-password"])
            #expect(reply.status == 303, "\(reply.text)")
            let page = try await get("/console/fs?path=home")
            return try #require(ConsoleTests.first(#"name="csrf" value="([0-9a-f]+)""#, in: page.text))
        }
    }

    static func first(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }

    static func expectConsoleHeaders(_ reply: ServedPlatform.Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        let csp = reply.headers.first(name: "Content-Security-Policy") ?? ""
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
            #expect(csp.contains(directive), "CSP \(csp) lacks \(directive)", sourceLocation: sourceLocation)
        }
        #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), sourceLocation: sourceLocation)
        #expect(reply.headers.first(name: "X-Frame-Options") == "DENY", sourceLocation: sourceLocation)
        #expect(reply.headers.first(name: "X-Content-Type-Options") == "nosniff", sourceLocation: sourceLocation)
        #expect(reply.headers.first(name: "Cache-Control") != nil, sourceLocation: sourceLocation)
    }

    @Test func getRootWithoutABrowserSaysWhereTheAPIAndItsDocumentationAre() async throws {
        try await ServedPlatform.with { server in
            let reply = try await server.request(.GET, "/")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("text/plain") == true)
            for words in ["/v1", "docs/api.md", "openapi.yaml", "fstn --server \(server.url)", "docs/console.md"] {
                #expect(reply.text.contains(words), "\(words) missing from \(reply.text)")
            }
            Self.expectConsoleHeaders(reply)
        }
    }

    @Test func theSignInPageAndTheAssetsCarryTheConsoleHeadersAndStrictCookies() async throws {
        try await ServedPlatform.with { server in
            let page = try await server.request(.GET, "/", headers: Self.html)
            #expect(page.status == 200)
            #expect(page.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(page.text.contains(#"<script src="/console/static/console.js" defer></script>"#))
            Self.expectConsoleHeaders(page)
            let cookie = try #require(page.headers["Set-Cookie"].first { $0.hasPrefix("faasten_form=") })
            for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] { #expect(cookie.contains(attribute), "\(cookie)") }
            let script = try await server.request(.GET, "/console/static/console.js")
            #expect(script.headers.first(name: "Content-Type")?.hasPrefix("text/javascript") == true)
            let style = try await server.request(.GET, "/console/static/console.css")
            #expect(style.headers.first(name: "Content-Type")?.hasPrefix("text/css") == true)
            Self.expectConsoleHeaders(style)
        }
    }

    /// No template writes a value unescaped, and none holds an inline script, style or
    /// event handler (the CSP would block them; the browser test would see the violation).
    @Test func theTemplatesEscapeEverythingAndHaveNothingInline() throws {
        let directory = TestSandboxes.repository + "/Sources/Gateway/Console/Assets"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".mustache") }
        #expect(names.count >= 10)
        for name in names {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            #expect(!text.contains("{{{") && !text.contains("{{&"), "\(name) writes a value unescaped")
            #expect(!text.contains("<script>") && !text.contains("style="), "\(name) has inline code")
            #expect(text.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "\(name) has an event handler")
            #expect(text.components(separatedBy: "<script").count <= 2, "\(name)")
        }
    }

    @Test func whatUsersWroteIsShownAsText() async throws {
        try await ServedPlatform.with { server in
            let token = try await server.user("alice")
            let created = try await server.request(
                .POST, ServedPlatform.fs("~:" + Self.xssName), token: token,
                json: ["kind": "file", "label": "alice,alice", "data": "<script>alert(2)</script>"])
            #expect(created.status == 201, "\(created.text)")
            var browser = Browser(server: server)
            _ = try await browser.signIn("alice")
            let listing = try await browser.get("/console/fs?path=" + Browser.encode("home:<alice,alice>"))
            #expect(listing.status == 200)
            #expect(listing.text.contains("&lt;img src=x onerror=alert(1)&gt;.txt"))
            #expect(!listing.text.contains("<img"))
            #expect(listing.text.contains("readable by: alice; vouched for by: alice"))
            // The breadcrumb names each step once, separated, with nothing after the last.
            let crumbs = try #require(Self.first(#"(<nav class="crumbs" id="crumbs">.*?</nav>)"#, in: listing.text))
            #expect(crumbs.components(separatedBy: #"<span class="sep">:</span>"#).count == 2)
            #expect(crumbs.hasSuffix("</a></nav>"))
            let file = try await browser.get("/console/fs?path=" + Browser.encode("home:<alice,alice>:" + Self.xssName))
            #expect(file.text.contains("&lt;script&gt;alert(2)&lt;/script&gt;"))
            #expect(!file.text.contains("<script>alert"))
            // Downloads are attachments the browser never renders as the console.
            let raw = try await browser.get("/console/fs/raw?path=" + Browser.encode("home:<alice,alice>:" + Self.xssName))
            #expect(raw.status == 200)
            #expect(raw.headers.first(name: "Content-Type") == "application/octet-stream")
            #expect(raw.headers.first(name: "Content-Disposition")?.hasPrefix("attachment;") == true)
            #expect(raw.headers.first(name: "Content-Security-Policy")?.contains("sandbox") == true)
            #expect(raw.text == "<script>alert(2)</script>")
        }
    }

    @Test func aFormFromElsewhereChangesNothing() async throws {
        try await ServedPlatform.with { server in
            let token = try await server.user("alice")
            var browser = Browser(server: server)
            let csrf = try await browser.signIn("alice")
            let fields = ["parent": "home:<alice,alice>", "name": "made", "kind": "directory", "label": "alice,alice"]
            let forged = try await browser.post("/console/fs/create", fields)
            #expect(forged.status == 403)
            let wrong = try await browser.post("/console/fs/create", fields.merging(["csrf": String(repeating: "0", count: 64)]) { $1 })
            #expect(wrong.status == 403)
            let crossSite = try await browser.post("/console/fs/create", fields.merging(["csrf": csrf]) { $1 }, headers: ["Origin": "https://evil.example"])
            #expect(crossSite.status == 403)
            #expect(try await server.request(.GET, ServedPlatform.fs("~:made"), token: token).status == 404)
            let genuine = try await browser.post("/console/fs/create", fields.merging(["csrf": csrf]) { $1 }, headers: ["Origin": server.url])
            #expect(genuine.status == 303, "\(genuine.text)")
            #expect(try await server.request(.GET, ServedPlatform.fs("~:made"), token: token).status == 200)
            // Signing in from another site's form is refused too (its form token is not ours).
            var other = Browser(server: server)
            let login = try await other.post("/console/signin", ["form": "x", "name": "alice", "password": "alice-password"])
            #expect(login.status == 403)
            #expect(other.cookies["faasten_session"] == nil)
        }
    }

    @Test func theConsoleIsRefusedWhatTheAPIRefusesTheSameToken() async throws {
        try await ServedPlatform.with { server in
            _ = try await server.user("alice")
            let bob = try await server.user("bob")
            let api = try await server.request(.GET, ServedPlatform.fs("home:<alice,alice>"), token: bob)
            var browser = Browser(server: server)
            _ = try await browser.signIn("bob")
            let page = try await browser.get("/console/fs?path=" + Browser.encode("home:<alice,alice>"))
            #expect(api.status == 403)
            #expect(page.status == api.status)
            #expect(page.text.contains("read rule"))
            #expect(page.text.contains("what to do:"))
            #expect(!page.text.contains("id=\"entries\""))
            // An admin page for someone who is not an admin: the API's 403.
            let admin = try await browser.get("/console/admin")
            #expect(admin.status == 403)
            // An unknown invocation: advice about its id, not `fstn ls`.
            let unknown = try await browser.get("/console/invocations/00000000-0000-0000-0000-000000000000")
            #expect(unknown.status == 404)
            #expect(unknown.text.contains("check the id"))
            #expect(!unknown.text.contains("fstn ls"))
        }
    }

    @Test func signedOutPagesSendToSignInAndSignOutEndsTheTokens() async throws {
        try await ServedPlatform.with { server in
            _ = try await server.user("alice")
            let anonymous = try await Self.send(.GET, server.url + "/console/fs?path=home", headers: Self.html)
            #expect(anonymous.status == 303)
            #expect(anonymous.headers.first(name: "Location") == "/")
            var browser = Browser(server: server)
            let csrf = try await browser.signIn("alice")
            let token = try #require(browser.cookies["faasten_session"])
            let out = try await browser.post("/console/signout", ["csrf": csrf])
            #expect(out.status == 303)
            #expect(browser.cookies["faasten_session"] == nil)
            #expect(try await server.request(.GET, "/v1/me", token: token).status == 401)
        }
    }
}
