import Foundation
import FstnKit
import HTTPTypes
import Hummingbird
import JSONValues
import Labels
import NIOCore

/// Invoking a gate and following invocations: status, timings, labels, result and logs.
extension Console {
    /// How many invocations started from a browser the console lists (kept in a cookie).
    static let rememberedInvocations = 10
    static let recentCookie = "faasten_recent"

    func addInvocationRoutes(_ console: RouterGroup<GatewayContext>) {
        console.post("invoke") { request, context in
            await self.signedInForm(request, context) { person, form in await self.invoke(person, form) }
        }
        console.get("invocations") { request, context in
            if let id = request.uri.queryParameters["id"], !id.isEmpty {
                return Self.redirect("/console/invocations/" + PathEncoding.segment(String(id).trimmingCharacters(in: .whitespaces)))
            }
            return await self.signedIn(request, context) { await self.recentPage($0) }
        }
        console.get("invocations/{id}") { request, context in
            let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
            return await self.signedIn(request, context) { await self.invocationPage($0, id: id) }
        }
    }

    /// `POST /console/invoke`: `POST /v1/invoke/PATH` with the input as the JSON payload,
    /// the start label as `X-Faasten-Label`, `?async=true` when not waiting.
    func invoke(_ person: ConsolePerson, _ form: ConsoleForm) async -> Response {
        let path = form.trimmed("path") ?? ""
        let input = form.trimmed("input") ?? ""
        var view = ResultView(path: path)
        if !input.isEmpty, (try? JSONValue(decoding: Array(input.utf8))) == nil {
            let problem = ConsoleProblem(status: 400, reason: "the input is not JSON", next: "write a JSON value, e.g. {\"photo\": \"~:photo.ppm\"}")
            return pages.render("result", page("Invoke", person, view: view, problem: ProblemView(problem)), status: .badRequest)
        }
        let async = form["mode"] == "async"
        let answer = await person.call(
            .post, "/v1/invoke/" + PathEncoding.segment(path), query: async ? [("async", "true")] : [], label: form.trimmed("label"),
            bytes: Array(input.utf8), contentType: "application/json")
        let ran = answer.invocation ?? answer.json?["invocation"]?.string ?? (async ? answer.json?["id"]?.string : nil)
        var cookies: [Cookie] = []
        if let ran {
            view.invocation = InvocationLink(id: ran)
            cookies.append(Self.remembering(ran, person.request))
        }
        if async, answer.status == .accepted, let ran {
            return Self.redirect("/console/invocations/" + PathEncoding.segment(ran), cookies: cookies)
        }
        var response: Response
        // The function's own answer is bytes; the gateway's refusals and failures are JSON
        // errors (some name the invocation: a result withheld by the release rule, a crash).
        let isGatewayError = answer.headers[.contentType]?.hasPrefix("application/json") == true && answer.json?["error"] != nil
        if answer.invocation != nil, !isGatewayError {
            // It ran, and its result passed the release rule: the function's own status and body.
            view.status = "\(answer.status.code) \(answer.status.reasonPhrase)"
            view.label = LabelView(answer.endLabel)
            if let text = answer.text { view.body = text.isEmpty ? nil : text } else { view.binary = answer.body.count }
            response = pages.render("result", page("Result", person, view: view, endLabel: answer.endLabel))
        } else {
            view.status = "\(answer.status.code) \(answer.status.reasonPhrase)"
            let problem = ProblemView(person.problem(answer), labels: answer.refusalLabels)
            response = pages.render("result", page("Refused", person, view: view, problem: problem, endLabel: answer.endLabel), status: answer.status)
        }
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// The ids of invocations this browser started, newest first.
    static func remembered(_ request: Request) -> [String] {
        (request.cookies[recentCookie]?.value ?? "").split(separator: ".").map(String.init).filter { id in
            !id.isEmpty && id.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
        }
    }

    static func remembering(_ id: String, _ request: Request) -> Cookie {
        let ids = ([id] + remembered(request).filter { $0 != id }).prefix(rememberedInvocations)
        return ConsoleSession.cookie(recentCookie, PathEncoding.segment(ids.joined(separator: ".")))
    }

    /// `GET /console/invocations`: the invocations this browser started, each read again.
    func recentPage(_ person: ConsolePerson) async -> Response {
        var rows: [RecentInvocation] = []
        for id in Self.remembered(person.request) {
            let answer = await person.call(.get, "/v1/invocations/" + PathEncoding.segment(id))
            let json = answer.json
            rows.append(
                RecentInvocation(
                    id: id, target: json?["target"]?.string ?? "-",
                    state: answer.isSuccess ? (json?["state"]?.string ?? "?") : person.problem(answer).reason,
                    label: LabelView(json?["result_label"]?.string ?? answer.endLabel)))
        }
        return pages.render("invocations", page("Invocations", person, view: RecentView(recent: rows, remembered: Self.rememberedInvocations)))
    }

    /// `GET /console/invocations/ID`: `GET /v1/invocations/ID` and its logs.
    func invocationPage(_ person: ConsolePerson, id: String) async -> Response {
        let record = await person.call(.get, "/v1/invocations/" + PathEncoding.segment(id))
        var view = InvocationPageView(id: id)
        guard record.isSuccess || record.status == .forbidden, let json = record.json, record.isSuccess || json["rule"] != nil else {
            let problem = ProblemView(person.problem(record, advice: ErrorAdvice.unknownInvocation))
            return pages.render("invocation", page("Invocation", person, view: view, problem: problem), status: record.status)
        }
        if record.isSuccess {
            view.fill(json)
        } else {
            // The record exists but its result may not be shown to this person.
            view.state = "finished"
            view.resultProblem = ProblemView(person.problem(record), heading: "Result withheld", labels: record.refusalLabels)
            view.resultLabel = LabelView(record.endLabel)
        }
        let logs = await person.call(.get, "/v1/invocations/" + PathEncoding.segment(id) + "/logs")
        if logs.isSuccess {
            let text = String(decoding: logs.body, as: UTF8.self)
            view.logs = text.isEmpty ? nil : text
            view.noLogs = text.isEmpty
        } else {
            view.logsProblem = ProblemView(person.problem(logs), heading: "Logs withheld", labels: logs.refusalLabels)
        }
        view.live = view.state != "finished"
        return pages.render("invocation", page("Invocation \(id)", person, view: view, endLabel: record.endLabel))
    }
}

struct InvocationLink: Sendable {
    let id: String
    let idQuery: String
    init(id: String) {
        self.id = id
        idQuery = PathEncoding.segment(id)
    }
}

/// An invoke form's answer.
struct ResultView: Sendable {
    let path: String
    let pathQuery: String
    var status = ""
    var label: LabelView?
    var invocation: InvocationLink?
    var body: String?
    var binary: Int?

    init(path: String) {
        self.path = path
        pathQuery = PathEncoding.segment(path)
    }
}

struct RecentInvocation: Sendable {
    let id: String
    let idQuery: String
    let target: String
    let state: String
    let label: LabelView?

    init(id: String, target: String, state: String, label: LabelView?) {
        self.id = id
        idQuery = PathEncoding.segment(id)
        self.target = target
        self.state = state
        self.label = label
    }
}

struct RecentView: Sendable {
    let recent: [RecentInvocation]
    let remembered: Int
}

/// One invocation's record, timings, result and logs.
struct InvocationPageView: Sendable {
    let id: String
    let idQuery: String
    var state = "?"
    var target = "?"
    var invoker = "?"
    var parent: String?
    var parentQuery: String?
    var times: [Setting] = []
    var resultLabel: LabelView?
    var outcome: String?
    var body: String?
    var error: String?
    var resultProblem: ProblemView?
    var logs: String?
    var logsProblem: ProblemView?
    var noLogs = false
    var live = false

    init(id: String) {
        self.id = id
        idQuery = PathEncoding.segment(id)
    }

    mutating func fill(_ json: JSONValue) {
        state = json["state"]?.string ?? "?"
        target = json["target"]?.string ?? "?"
        invoker = json["invoker"]?.string ?? "?"
        parent = json["parent"]?.string
        parentQuery = parent.map(PathEncoding.segment)
        resultLabel = LabelView(json["result_label"]?.string)
        let submitted = json["submitted_at"]?.number, started = json["started_at"]?.number, finished = json["finished_at"]?.number
        if let submitted { times.append(Setting(name: "submitted", value: Self.time(submitted))) }
        if let submitted, let started { times.append(Setting(name: "waited", value: Self.duration(started - submitted))) }
        if let started, let finished { times.append(Setting(name: "ran for", value: Self.duration(finished - started))) }
        if let finished { times.append(Setting(name: "finished", value: Self.time(finished))) }
        if let attempts = json["attempts"]?.int, attempts > 1 { times.append(Setting(name: "attempts", value: String(attempts))) }
        if let outcome = json["outcome"], !outcome.isNull {
            let status = outcome["status"]?.string ?? "?"
            self.outcome = outcome["response_status"]?.int.map { "\(status) (HTTP \($0))" } ?? status
            body = outcome["body"]?.string ?? outcome["body_base64"]?.string.map { "(binary, base64) " + $0 }
            error = outcome["error"]?.string
        }
    }

    static func time(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%.2f s", seconds)
    }
}
