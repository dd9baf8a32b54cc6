import Foundation
import FstnKit
import HTTPTypes
import Hummingbird
import JSONValues
import Labels

/// Triggers: the person's list, a new trigger (its secret shown once), one trigger with
/// its deliveries, and deleting one.
extension Console {
    func addTriggerRoutes(_ console: RouterGroup<GatewayContext>) {
        console.get("triggers") { request, context in await self.signedIn(request, context) { await self.triggersPage($0) } }
        console.post("triggers") { request, context in
            await self.signedInForm(request, context) { person, form in await self.createTrigger(person, form) }
        }
        console.get("triggers/{id}") { request, context in
            let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
            return await self.signedIn(request, context) { await self.triggerPage($0, id: id) }
        }
        console.post("triggers/{id}/delete") { request, context in
            let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
            return await self.signedInForm(request, context) { person, _ in
                let answer = await person.call(.delete, "/v1/triggers/" + PathEncoding.segment(id))
                guard answer.isSuccess else { return self.problemPage(person, person.problem(answer, advice: ErrorAdvice.unknownTrigger)) }
                return Self.redirect("/console/triggers")
            }
        }
    }

    /// `GET /console/triggers`: `GET /v1/triggers`.
    func triggersPage(_ person: ConsolePerson) async -> Response {
        let answer = await person.call(.get, "/v1/triggers")
        let triggers = (answer.json?["triggers"]?.array ?? []).map(TriggerItem.init)
        let view = TriggersView(triggers: triggers, privilege: person.privilege)
        let problem = answer.isSuccess ? nil : ProblemView(person.problem(answer))
        return pages.render("triggers", page("Triggers", person, view: view, problem: problem))
    }

    /// `POST /console/triggers`: `POST /v1/triggers`; the answer's secret is shown on this
    /// page only.
    func createTrigger(_ person: ConsolePerson, _ form: ConsoleForm) async -> Response {
        var body: [String: JSONValue] = [:]
        for field in ["name", "source", "gate", "privilege", "start_label", "schedule", "timezone"] {
            if let value = form.trimmed(field) { body[field] = .string(value) }
        }
        let answer = await person.call(.post, "/v1/triggers", json: .object(body))
        guard answer.isSuccess, let json = answer.json else {
            return problemPage(person, person.problem(answer), labels: answer.refusalLabels)
        }
        var view = TriggerView(json)
        view.secret = json["secret"]?.string
        return pages.render("trigger", page("Trigger \(view.name)", person, view: view, notice: "Created the trigger \(view.name)."), status: .created)
    }

    /// `GET /console/triggers/ID`: `GET /v1/triggers/ID` and its deliveries.
    func triggerPage(_ person: ConsolePerson, id: String) async -> Response {
        let path = "/v1/triggers/" + PathEncoding.segment(id)
        let answer = await person.call(.get, path)
        guard answer.isSuccess, let json = answer.json else {
            return problemPage(person, person.problem(answer, advice: ErrorAdvice.unknownTrigger))
        }
        var view = TriggerView(json)
        let deliveries = await person.call(.get, path + "/deliveries")
        view.deliveries = (deliveries.json?["deliveries"]?.array ?? []).map(DeliveryItem.init)
        let problem = deliveries.isSuccess ? nil : ProblemView(person.problem(deliveries))
        return pages.render("trigger", page("Trigger \(view.name)", person, view: view, problem: problem))
    }

    static func time(_ value: JSONValue?) -> String {
        value?.number.map(InvocationPageView.time) ?? "-"
    }
}

struct TriggersView: Sendable {
    let triggers: [TriggerItem]
    /// The default privilege of a new trigger: the person's.
    let privilege: String
}

struct TriggerItem: Sendable {
    let name: String
    let idQuery: String
    let source: String
    let gate: String
    let privilege: String
    let startLabel: LabelView?
    let schedule: String

    init(_ json: JSONValue) {
        name = json["name"]?.string ?? "?"
        idQuery = PathEncoding.segment(json["id"]?.string ?? "")
        source = json["source"]?.string ?? "?"
        gate = json["gate"]?.string ?? "?"
        privilege = json["privilege"]?.string ?? "?"
        startLabel = LabelView(json["start_label"]?.string)
        schedule = json["schedule"]?.string.map { "\($0) (next \(Console.time(json["next_run"])))" } ?? "on each event"
    }
}

struct TriggerView: Sendable {
    let name: String
    let idQuery: String
    let settings: [Setting]
    let startLabel: LabelView?
    var secret: String?
    var deliveries: [DeliveryItem] = []

    init(_ json: JSONValue) {
        name = json["name"]?.string ?? "?"
        idQuery = PathEncoding.segment(json["id"]?.string ?? "")
        startLabel = LabelView(json["start_label"]?.string)
        var settings = Console.settings(json, except: ["start_label", "secret", "next_run", "created_at"])
        settings.append(Setting(name: "created", value: Console.time(json["created_at"])))
        if json["next_run"]?.number != nil { settings.append(Setting(name: "next run", value: Console.time(json["next_run"]))) }
        self.settings = settings
    }
}

struct DeliveryItem: Sendable {
    let at: String
    let event: String
    let delivery: String
    let outcome: String
    let invocation: String?
    let invocationQuery: String

    init(_ json: JSONValue) {
        at = Console.time(json["at"])
        event = json["event"]?.string ?? "?"
        delivery = json["delivery"]?.string ?? "?"
        outcome = json["outcome"]?.string ?? "?"
        invocation = json["invocation"]?.string
        invocationQuery = PathEncoding.segment(invocation ?? "")
    }
}
