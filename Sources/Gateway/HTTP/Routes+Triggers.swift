import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import JSONValues
import Labels
import Store

extension Gateway {
    func addTriggerRoutes(_ router: Router<GatewayContext>) {
        let limit = configuration.maxJSONBytes
        route(router, .post, "/v1/triggers") { request, _ -> Response in
            let caller = try await self.caller(request)
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            let (row, definition) = try await self.triggers.create(caller, body)
            var json = self.json(row, definition)
            if case var .object(fields) = json, let secret = definition.secret {
                fields["secret"] = .string(secret)
                json = .object(fields)
            }
            return json.response(status: .created)
        }
        route(router, .get, "/v1/triggers") { request, _ -> Response in
            let caller = try await self.caller(request)
            var listed: [JSONValue] = []
            for row in try await self.triggers.list(caller) {
                listed.append(self.json(row, try await self.triggers.definition(row)))
            }
            return JSONValue.object(["triggers": .array(listed)]).response()
        }
        route(router, .get, "/v1/triggers/{id}") { request, context -> Response in
            let row = try await self.triggers.owned(try request.pathParameter("id", context), by: try await self.caller(request))
            return self.json(row, try await self.triggers.definition(row)).response()
        }
        route(router, .delete, "/v1/triggers/{id}") { request, context -> Response in
            let caller = try await self.caller(request)
            let row = try await self.triggers.owned(try request.pathParameter("id", context), by: caller)
            try await self.triggers.delete(row, by: caller)
            return Response(status: .noContent)
        }
        route(router, .get, "/v1/triggers/{id}/deliveries") { request, context -> Response in
            let row = try await self.triggers.owned(try request.pathParameter("id", context), by: try await self.caller(request))
            var count = 50
            if let text = request.uri.queryParameters["limit"] {
                guard let value = Int(text), (1...200).contains(value) else { throw APIError.badRequest("limit must be from 1 to 200") }
                count = value
            }
            let deliveries = try await self.triggers.deliveries(row, limit: count)
            return JSONValue.object([
                "deliveries": .array(
                    deliveries.map { delivery, outcome in
                        .object([
                            "delivery": .string(delivery.delivery), "event": .string(delivery.event), "at": .number(delivery.at),
                            "invocation": delivery.invocation.map(JSONValue.string) ?? .null, "outcome": .string(outcome),
                        ])
                    })
            ]).response()
        }
        route(router, .post, "/v1/hooks/{id}") { request, context -> Response in
            try await self.hook(request, context)
        }
    }

    func json(_ row: TriggerRow, _ definition: Triggers.Definition) -> JSONValue {
        .object([
            "id": .string(row.id), "name": .string(row.name), "owner": .string(row.owner), "source": .string(row.source),
            "gate": .string(definition.gate.description), "privilege": .string(definition.privilege.description),
            "start_label": .string(definition.startLabel.description), "schedule": row.schedule.map(JSONValue.string) ?? .null,
            "timezone": .string(row.timezone),
            "next_run": row.nextRun.flatMap { $0.isFinite ? JSONValue.number($0) : nil } ?? .null,
            "hook_url": row.source == "schedule" ? .null : .string("/v1/hooks/\(row.id)"), "created_at": .number(row.createdAt),
        ])
    }

    /// `POST /v1/hooks/{id}`: every refusal is a 4xx and starts nothing.
    func hook(_ request: Request, _ context: GatewayContext) async throws -> Response {
        guard !draining else { throw APIError.unavailable("the server is shutting down", retryAfter: 5) }
        let id = try request.pathParameter("id", context)
        let row = try await fileSystem.store.transaction(.read) { try $0.trigger(id) }
        guard let row else { throw APIError.notFound("no trigger \(id)") }
        guard row.source != "schedule" else { throw APIError.conflict("the trigger \(id) is a schedule; it takes no webhooks") }
        var request = request
        let body = try await request.bytes(upTo: triggers.maxBodyBytes)
        let definition = try await triggers.definition(row)
        guard let secret = definition.secret else { throw APIError(.internalServerError, "internal", "the trigger has no secret") }
        let event: String
        let delivery: String
        switch row.source {
        case "github":
            guard let signature = request.headers[.githubSignature] else {
                throw APIError.unauthorized("X-Hub-Signature-256 is missing: set the webhook's secret")
            }
            guard let type = request.headers[.githubEvent], !type.isEmpty,
                let id = request.headers[.githubDelivery], !id.isEmpty
            else { throw APIError.badRequest("X-GitHub-Event and X-GitHub-Delivery are required") }
            guard Triggers.signatureIsValid(signature, message: body, secret: secret) else {
                throw APIError.unauthorized("the signature does not match the body and the trigger's secret")
            }
            (event, delivery) = (type, id)
        default:
            guard let signature = request.headers[.faastenSignature],
                let stamp = request.headers[.faastenTimestamp]
            else { throw APIError.unauthorized("X-Faasten-Signature and X-Faasten-Timestamp are required: sign the delivery with the trigger's secret") }
            guard let time = Double(stamp), time.isFinite else { throw APIError.unauthorized("X-Faasten-Timestamp must be unix seconds") }
            guard Triggers.signatureIsValid(signature, message: Array("\(stamp).".utf8) + body, secret: secret) else {
                throw APIError.unauthorized("the signature does not match the timestamp, the body and the trigger's secret")
            }
            // Checked after the signature, so that the answer reveals nothing to a forger.
            guard abs(Date().timeIntervalSince1970 - time) <= triggers.timestampTolerance else {
                throw APIError.unauthorized("the timestamp is more than \(Int(triggers.timestampTolerance)) s from the server's clock")
            }
            event = request.headers[.faastenEvent] ?? "event"
            delivery = request.headers[.faastenDelivery] ?? signature
        }
        guard event.utf8.count <= 128, delivery.utf8.count <= 256 else { throw APIError.badRequest("the event or delivery id is too long") }
        // A trigger acts for its owner: not once the owner is disabled or gone.
        let owner = try await fileSystem.store.transaction(.read) { try $0.account(row.owner) }
        guard let owner, !owner.disabled else { throw APIError.forbidden("the trigger's owner is disabled or deleted") }
        if row.source == "github" && event == "ping" {
            let record = DeliveryRow(trigger: row.id, delivery: delivery, event: event, at: Date().timeIntervalSince1970, outcome: "ping")
            _ = try await fileSystem.store.transaction(.write) { try $0.insertDelivery(record) }
            return JSONValue.object(["pong": true, "delivery": .string(delivery)]).response()
        }
        let payload = (try? JSONValue(decoding: body)) ?? .string(String(decoding: body, as: UTF8.self))
        let (invocation, duplicate) = try await triggers.fire(row, definition, event: event, delivery: delivery, payload: payload)
        var fields: [String: JSONValue] = ["invocation": invocation.map(JSONValue.string) ?? .null, "delivery": .string(delivery)]
        if duplicate { fields["duplicate"] = true }
        return JSONValue.object(fields).response(status: duplicate ? .ok : .accepted)
    }
}
