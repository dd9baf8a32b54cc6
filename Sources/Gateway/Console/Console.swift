import Foundation
import FstnKit
import HTTPTypes
import Hummingbird
import JSONValues
import Labels
import NIOCore

extension Gateway {
    /// The web console (docs/console.md): HTML pages at `/` and under `/console/` that
    /// call this gateway's own HTTP API for the person signed in. Added after every API
    /// route, which the console reaches through ``ConsoleAPI``.
    func addConsoleRoutes(_ router: Router<GatewayContext>) {
        Console(api: ConsoleAPI(responder: router.buildResponder()), configuration: configuration).addRoutes(to: router)
    }
}

/// The console's pages and forms. Each one is a few calls of the public API with the
/// person's token, rendered with ``ConsolePages``; a state-changing form must come from
/// a console page of the same session (``ConsoleForgery``).
struct Console: Sendable {
    let api: ConsoleAPI
    let configuration: GatewayConfiguration
    let pages = ConsolePages()

    /// The largest form body read (an upload without JavaScript, a file's contents).
    var maxFormBytes: Int { configuration.maxPayloadBytes }

    func addRoutes(to router: Router<GatewayContext>) {
        let headers = ConsoleHeadersMiddleware()
        router.group().add(middleware: headers).get("/") { request, context in await self.root(request, context) }
        let console = router.group("console").add(middleware: headers)
        console.get("/") { request, context in await self.root(request, context) }
        console.get("static/console.js") { _, _ in Self.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8") }
        console.get("static/console.css") { _, _ in Self.asset(ConsoleAssets.styleSheet, type: "text/css; charset=utf-8") }
        addAccountRoutes(console)
        addFileSystemRoutes(console)
        addInvocationRoutes(console)
        addTriggerRoutes(console)
        addAdminRoutes(console)
    }

    /// `GET /`: for a browser, the sign-in page (or the files of the person signed in);
    /// for anything else (curl), where the API and its documentation are.
    func root(_ request: Request, _ context: GatewayContext) async -> Response {
        guard Self.wantsHTML(request) else { return Self.guide(request) }
        if let person = await resolve(request, context) {
            return Self.redirect("/console/fs?path=home", cookies: person.cookies)
        }
        return signInPage(request, notice: request.uri.queryParameters["notice"].map { Self.notices[String($0)] ?? "" })
    }

    static let notices = [
        "signed-out": "You are signed out: your tokens no longer work.",
        "expired": "Your session ended: sign in again.",
    ]

    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.lowercased().contains("text/html") ?? false
    }

    /// The plain-text answer to `GET /` without a browser.
    static func guide(_ request: Request) -> Response {
        let server = request.head.authority ?? "HOST:PORT"
        let text = """
            Faasten: functions whose data carries labels (who may read it, who vouched for it).

            This server speaks the HTTP API under /v1 (JSON): for example
              curl http://\(server)/v1/me
            Its reference is docs/api.md and openapi.yaml in the Faasten repository;
            GET /healthz and GET /metrics are for operators.

            The command-line client:   fstn --server http://\(server) login NAME
            The web console:           open http://\(server)/ in a browser (docs/console.md)

            """
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    // MARK: The person signed in

    /// The person whose session cookie `request` carries, checked with `GET /v1/me`; an
    /// expired access token is renewed once with the refresh token. `nil` if there is no
    /// session or it no longer works.
    func resolve(_ request: Request, _ context: GatewayContext) async -> ConsolePerson? {
        guard var session = ConsoleSession(request) else { return nil }
        let formTokens = [session.csrfToken]
        var cookies: [Cookie] = []
        var me = await api.send(.get, "/v1/me", token: session.token, context: context)
        if me.status == .unauthorized, let refreshToken = session.refreshToken {
            let refreshed = await api.send(
                .post, "/v1/refresh", token: nil, json: ["refresh_token": .string(refreshToken)], context: context)
            guard refreshed.isSuccess, let json = refreshed.json, let token = json["token"]?.string else { return nil }
            session.token = token
            session.refreshToken = json["refresh_token"]?.string
            cookies = Self.sessionCookies(session, json)
            me = await api.send(.get, "/v1/me", token: token, context: context)
        }
        guard me.isSuccess, let json = me.json, let principal = json["principal"]?.string else { return nil }
        return ConsolePerson(
            api: api, request: request, context: context, session: session, principal: principal,
            privilege: json["privilege"]?.string ?? "T", admin: json["admin"]?.bool ?? false, cookies: cookies,
            formTokens: formTokens + [session.csrfToken])
    }

    /// The cookies that keep a session the API answered with (`POST /v1/login` or
    /// `/v1/refresh`), living as long as its tokens.
    static func sessionCookies(_ session: ConsoleSession, _ answer: JSONValue) -> [Cookie] {
        let now = Date().timeIntervalSince1970
        func lifetime(_ key: String) -> Int? { answer[key]?.number.map { max(0, Int($0 - now)) } }
        return session.cookies(tokenLifetime: lifetime("expires_at"), refreshLifetime: lifetime("refresh_expires_at"))
    }

    /// A page for the person signed in; anyone else is sent to the sign-in page.
    func signedIn(
        _ request: Request, _ context: GatewayContext, _ page: @Sendable (ConsolePerson) async throws -> Response
    ) async -> Response {
        guard let person = await resolve(request, context) else {
            let expired = ConsoleSession(request) != nil
            return Self.redirect(expired ? "/?notice=expired" : "/", cookies: expired ? ConsoleSession.removal : [])
        }
        var response: Response
        do {
            response = try await page(person)
        } catch {
            response = problemPage(person, ConsoleProblem(status: 500, reason: "the console failed: \(error)"), status: .internalServerError)
        }
        for cookie in person.cookies { response.setCookie(cookie) }
        return response
    }

    /// A form from a console page of the person's session: the request must be
    /// same-origin and carry the session's form token (in the `csrf` field, or the
    /// `X-Faasten-Console-Form` header for the page's script).
    func signedInForm(
        _ request: Request, _ context: GatewayContext, _ handle: @Sendable (ConsolePerson, ConsoleForm) async throws -> Response
    ) async -> Response {
        var request = request
        let isForm = request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
        var fields = ConsoleForm(fields: [:])
        if isForm {
            guard let bytes = try? await request.collectBody(upTo: maxFormBytes) else {
                let problem = ConsoleProblem(status: 413, reason: "the form is larger than \(maxFormBytes) bytes")
                return pages.render("message", Page<Void>(title: "Too large", problem: ProblemView(problem)), status: .contentTooLarge)
            }
            fields = ConsoleForm(urlEncoded: Array(bytes.readableBytesView))
        }
        let form = fields
        let submitted = request
        return await signedIn(request, context) { person in
            let token = form["csrf"] ?? submitted.headers[ConsoleForgery.header]
            guard ConsoleForgery.isSameOrigin(submitted), person.formTokens.contains(where: { ConsoleForgery.matches(token, $0) }) else {
                return self.problemPage(
                    person,
                    ConsoleProblem(
                        status: 403, reason: "this form did not come from a page of your console session",
                        next: "reload the page and submit it again"), status: .forbidden)
            }
            return try await handle(person, form)
        }
    }

    /// A page that only says what went wrong.
    func problemPage(_ person: ConsolePerson?, _ problem: ConsoleProblem, status: HTTPResponse.Status? = nil, labels: [String: String] = [:])
        -> Response
    {
        let page = Page<Void>(
            title: problem.status == 403 ? "Refused" : "Problem", person: person?.view, problem: ProblemView(problem, labels: labels),
            csrf: person?.session.csrfToken)
        return pages.render("message", page, status: status ?? HTTPResponse.Status(code: problem.status))
    }

    /// A page for `person` with their bar filled in.
    func page<View>(_ title: String, _ person: ConsolePerson, view: View?, problem: ProblemView? = nil, notice: String? = nil, endLabel: String? = nil)
        -> Page<View>
    {
        Page(
            title: title, person: person.view, notice: notice, problem: problem, endLabel: LabelView(endLabel), view: view,
            csrf: person.session.csrfToken)
    }
}

/// The person signed in on a request: their session, what `GET /v1/me` said about them,
/// and the API, called with their token.
struct ConsolePerson: Sendable {
    let api: ConsoleAPI
    let request: Request
    let context: GatewayContext
    let session: ConsoleSession
    let principal: String
    let privilege: String
    let admin: Bool
    /// Cookies to set on the answer (a renewed session).
    let cookies: [Cookie]
    /// The form tokens accepted on this request (before and after a renewal).
    let formTokens: [String]

    /// An API call as this person, starting at their context label unless `label` is given.
    func call(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], label: String? = nil, json: JSONValue? = nil,
        bytes: [UInt8]? = nil, contentType: String? = nil
    ) async -> APIAnswer {
        await api.send(
            method, path, query: query, token: session.token, label: label ?? session.label.description, json: json, bytes: bytes,
            contentType: contentType, context: context)
    }

    /// A call on the FS object at `path` (`/v1/fs/{path}` plus `suffix`).
    func fs(_ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], json: JSONValue? = nil) async -> APIAnswer {
        await call(method, "/v1/fs/" + PathEncoding.segment(path), query: query, json: json)
    }

    /// The error of a failed answer, in fstn's words.
    func problem(_ answer: APIAnswer, advice: [String: String] = [:]) -> ConsoleProblem {
        answer.problem(user: principal, advice: advice)
    }

    var view: PersonView {
        let privilegeWords = (try? Privilege(parsing: privilege)).map(LabelWords.actingAs) ?? privilege
        return PersonView(
            principal: principal, privilege: privilege, privilegeWords: privilegeWords, admin: admin,
            contextLabel: LabelView(session.label), csrf: session.csrfToken,
            here: request.method == .get ? request.uri.description : "/console/fs?path=home")
    }
}

extension ConsoleForgery {
    /// The header the console's script sends its form token in.
    static let header = HTTPField.Name("X-Faasten-Console-Form")!
}
