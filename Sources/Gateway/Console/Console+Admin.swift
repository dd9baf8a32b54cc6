import Foundation
import FstnKit
import HTTPTypes
import Hummingbird
import JSONValues

/// Administration, for the admin principal: users (enable, disable) and the audit log.
/// Others get the API's refusal.
extension Console {
    func addAdminRoutes(_ console: RouterGroup<GatewayContext>) {
        console.get("admin") { request, context in await self.signedIn(request, context) { await self.adminPage($0) } }
        console.post("admin/users/{name}/{action}") { request, context in
            let name = context.parameters.get("name")?.removingPercentEncoding ?? ""
            let action = context.parameters.get("action") ?? ""
            return await self.signedInForm(request, context) { person, _ in
                guard action == "enable" || action == "disable" else {
                    return self.problemPage(person, ConsoleProblem(status: 404, reason: "no such action: \(action)"))
                }
                let answer = await person.call(.post, "/v1/admin/users/" + PathEncoding.segment(name) + "/" + action)
                guard answer.isSuccess else { return self.problemPage(person, person.problem(answer)) }
                return Self.redirect("/console/admin")
            }
        }
    }

    /// `GET /console/admin`: `GET /v1/admin/users` and `GET /v1/audit` with the filter.
    func adminPage(_ person: ConsolePerson) async -> Response {
        let parameters = person.request.uri.queryParameters
        let filter = AuditFilter(
            principal: parameters["principal"].map(String.init), action: parameters["action"].map(String.init),
            object: parameters["object"].map(String.init))
        let users = await person.call(.get, "/v1/admin/users")
        guard users.isSuccess else {
            return problemPage(person, person.problem(users))
        }
        var query: [(String, String)] = [("limit", "200")]
        for (name, value) in [("principal", filter.principal), ("action", filter.action), ("object", filter.object)] {
            if let value, !value.isEmpty { query.append((name, value)) }
        }
        let audit = await person.call(.get, "/v1/audit", query: query)
        let view = AdminView(
            users: (users.json?["users"]?.array ?? []).map(UserRow.init), events: (audit.json?["events"]?.array ?? []).map(AuditRowView.init),
            filter: filter)
        let problem = audit.isSuccess ? nil : ProblemView(person.problem(audit))
        return pages.render("admin", page("Administration", person, view: view, problem: problem))
    }
}

struct AuditFilter: Sendable {
    let principal: String?
    let action: String?
    let object: String?
}

struct AdminView: Sendable {
    let users: [UserRow]
    let events: [AuditRowView]
    let filter: AuditFilter
}

struct UserRow: Sendable {
    let name: String
    let nameQuery: String
    let admin: String
    let state: String
    let created: String
    /// What the row's button does.
    let action: String

    init(_ json: JSONValue) {
        name = json["name"]?.string ?? "?"
        nameQuery = PathEncoding.segment(name)
        admin = json["admin"]?.bool == true ? "yes" : "no"
        let disabled = json["disabled"]?.bool == true
        state = disabled ? "disabled" : "active"
        action = disabled ? "enable" : "disable"
        created = Console.time(json["created_at"])
    }
}

struct AuditRowView: Sendable {
    let at: String
    let principal: String
    let action: String
    let object: String
    let labels: [NamedLabel]
    let detail: String

    init(_ json: JSONValue) {
        at = Console.time(json["at"])
        principal = json["principal"]?.string ?? ""
        action = json["action"]?.string ?? ""
        object = json["object"]?.string ?? ""
        detail = json["detail"]?.string ?? ""
        if case let .object(labels)? = json["labels"] {
            self.labels = labels.sorted { $0.key < $1.key }.compactMap { name, value in
                LabelView(value.string).map { NamedLabel(name: name, label: $0) }
            }
        } else {
            labels = []
        }
    }
}
