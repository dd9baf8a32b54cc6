import Foundation
import FstnKit
import HTTPTypes
import Hummingbird
import JSONValues
import Labels
import NIOCore

/// Signing in, registering, signing out, and the context label.
extension Console {
    func addAccountRoutes(_ console: RouterGroup<GatewayContext>) {
        console.post("signin") { request, context in await self.signIn(request, context, register: false) }
        console.post("register") { request, context in await self.signIn(request, context, register: true) }
        console.post("signout") { request, context in
            await self.signedInForm(request, context) { person, _ in
                let body: JSONValue = person.session.refreshToken.map { ["refresh_token": .string($0)] } ?? [:]
                _ = await person.call(.post, "/v1/logout", json: body)
                return Self.redirect("/?notice=signed-out", cookies: ConsoleSession.removal)
            }
        }
        console.post("label") { request, context in
            await self.signedInForm(request, context) { person, form in
                let text = form.trimmed("label") ?? "T,T"
                let back = form.trimmed("back").flatMap { $0.hasPrefix("/console/") ? $0 : nil } ?? "/console/fs?path=home"
                guard let label = try? Label(parsing: text) else {
                    return self.problemPage(person, ConsoleProblem(status: 400, reason: "'\(text)' is not a label", next: "write secrecy,integrity, e.g. alice,alice or T,T"))
                }
                return Self.redirect(back, cookies: [ConsoleSession.cookie(ConsoleSession.labelCookie, PathEncoding.segment(label.description))])
            }
        }
    }

    /// The sign-in page, with a fresh form cookie (see ``ConsoleSession/formCookie``).
    func signInPage(_ request: Request, notice: String? = nil, problem: ProblemView? = nil, name: String? = nil, status: HTTPResponse.Status = .ok)
        -> Response
    {
        let formToken = ConsoleSession.digest(UUID().uuidString + UUID().uuidString)
        var response = pages.render(
            "signin", Page(title: "Sign in", notice: notice, problem: problem, view: SignInView(formToken: formToken, name: name)), status: status)
        response.setCookie(ConsoleSession.cookie(ConsoleSession.formCookie, formToken))
        for cookie in ConsoleSession(request) == nil ? [] : ConsoleSession.removal { response.setCookie(cookie) }
        return response
    }

    /// `POST /console/signin` and `/console/register`: `POST /v1/login` (after
    /// `POST /v1/accounts` to register), then the tokens go into the session cookies.
    func signIn(_ request: Request, _ context: GatewayContext, register: Bool) async -> Response {
        var request = request
        guard let bytes = try? await request.collectBody(upTo: 64 << 10) else {
            return signInPage(request, problem: ProblemView(ConsoleProblem(status: 413, reason: "the form is too large")), status: .contentTooLarge)
        }
        let form = ConsoleForm(urlEncoded: Array(bytes.readableBytesView))
        guard ConsoleForgery.isSameOrigin(request), let expected = request.cookies[ConsoleSession.formCookie]?.value,
            ConsoleForgery.matches(form["form"], expected)
        else {
            let problem = ConsoleProblem(status: 403, reason: "this form did not come from this console", next: "reload the page and sign in again")
            return signInPage(request, problem: ProblemView(problem), status: .forbidden)
        }
        let name = form["name"] ?? ""
        let credentials: JSONValue = ["name": .string(name), "password": .string(form["password"] ?? "")]
        if register {
            let created = await api.send(.post, "/v1/accounts", token: nil, json: credentials, context: context)
            guard created.isSuccess else {
                let problem = created.problem(user: nil, advice: ["conflict": "the name is taken or reserved: choose another"])
                return signInPage(request, problem: ProblemView(problem, heading: "Not registered"), name: name, status: created.status)
            }
        }
        let login = await api.send(.post, "/v1/login", token: nil, json: credentials, context: context)
        guard login.isSuccess, let json = login.json, let token = json["token"]?.string else {
            let problem = login.problem(user: nil, advice: ["unauthorized": "check the name and the password"])
            return signInPage(request, problem: ProblemView(problem, heading: "Not signed in"), name: name, status: login.status)
        }
        let session = ConsoleSession(token: token, refreshToken: json["refresh_token"]?.string, label: ConsoleSession.label(request))
        return Self.redirect("/console/fs?path=home", cookies: Self.sessionCookies(session, json))
    }
}

struct SignInView: Sendable {
    let formToken: String
    let name: String?
}
