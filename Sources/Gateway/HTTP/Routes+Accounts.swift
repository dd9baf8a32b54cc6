import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Labels
import Store
import JSONValues

extension Gateway {
    func addAccountRoutes(_ router: Router<GatewayContext>) {
        let limit = configuration.maxJSONBytes
        route(router, .post, "/v1/accounts") { request, _ -> Response in
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            let account = try await self.accounts.register(name: try body.string("name"), password: try body.string("password"))
            return JSONValue.object(["principal": .string(account.name), "privilege": .string(account.name)]).response(status: .created)
        }
        route(router, .post, "/v1/login") { request, context -> Response in
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            let session = try await self.accounts.login(
                name: try body.string("name"), password: try body.string("password"), address: context.clientAddress)
            return session.json.response()
        }
        route(router, .post, "/v1/refresh") { request, _ -> Response in
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            return try await self.accounts.refresh(try body.string("refresh_token")).json.response()
        }
        route(router, .post, "/v1/logout") { request, _ -> Response in
            let caller = try await self.caller(request)
            var request = request
            let bytes = try await request.bytes(upTo: limit)
            if !bytes.isEmpty { try request.requireJSON() }
            let refresh = bytes.isEmpty ? nil : try JSONFields(try JSONValue(parsing: bytes)).optionalString("refresh_token")
            try await self.accounts.logout(caller, refreshToken: refresh)
            return Response(status: .noContent)
        }
        route(router, .get, "/v1/me") { request, _ -> Response in
            self.me(try await self.caller(request)).response()
        }
        route(router, .post, "/v1/delegate") { request, _ -> Response in
            let caller = try await self.caller(request)
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            guard let privilege = try Self.component(body, "privilege") else { throw APIError.badRequest("privilege is required") }
            let expiresIn = try body.optionalInt("expires_in", in: 1...(366 * 86400))
            let (token, expiresAt) = try await self.accounts.delegate(caller, privilege: privilege, expiresIn: expiresIn)
            return JSONValue.object([
                "token": .string(token), "token_type": "Bearer", "privilege": .string(privilege.description),
                "expires_at": .number(expiresAt.rounded(.down)),
            ]).response(status: .created)
        }

        // Administration.
        route(router, .get, "/v1/admin/users") { request, _ -> Response in
            try self.accounts.requireAdmin(try await self.caller(request))
            let users = try await self.accounts.users()
            return JSONValue.object(["users": .array(users.map(Self.json))]).response()
        }
        for (action, disabled) in [("disable", true), ("enable", false)] {
            route(router, .post, "/v1/admin/users/{name}/\(action)") { request, context -> Response in
                let caller = try await self.caller(request)
                try self.accounts.requireAdmin(caller)
                let name = try request.pathParameter("name", context)
                return Self.json(try await self.accounts.setDisabled(name, disabled, by: caller)).response()
            }
        }
        route(router, .post, "/v1/admin/users/{name}/password") { request, context -> Response in
            let caller = try await self.caller(request)
            try self.accounts.requireAdmin(caller)
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            try await self.accounts.resetPassword(try request.pathParameter("name", context), to: try body.string("password"), by: caller)
            return Response(status: .noContent)
        }
        route(router, .delete, "/v1/admin/users/{name}") { request, context -> Response in
            let caller = try await self.caller(request)
            try self.accounts.requireAdmin(caller)
            try await self.accounts.delete(try request.pathParameter("name", context), by: caller)
            return Response(status: .noContent)
        }
        route(router, .post, "/v1/admin/keys/rotate") { request, _ -> Response in
            let caller = try await self.caller(request)
            try self.accounts.requireAdmin(caller)
            let kid = try await self.keys.rotate(keepFor: self.configuration.tokenLifetime)
            self.audit.record(AuditEvent(principal: caller.name, action: "key_rotate", object: kid))
            return JSONValue.object(["kid": .string(kid)]).response()
        }
        route(router, .get, "/v1/audit") { request, _ -> Response in
            try self.accounts.requireAdmin(try await self.caller(request))
            let query = try Self.auditQuery(request.uri.queryParameters)
            let events = try await self.audit.events(query)
            return JSONValue.object(["events": .array(events.map(Self.json))]).response()
        }
    }

    func me(_ caller: Caller) -> JSONValue {
        .object([
            "principal": caller.principal.map(JSONValue.string) ?? .null, "privilege": .string(caller.privilege.description),
            "anonymous": .bool(caller.principal == nil), "admin": .bool(caller.admin),
            "expires_at": caller.expiresAt.map { .number($0.rounded(.down)) } ?? .null,
        ])
    }

    static func json(_ account: AccountRow) -> JSONValue {
        .object([
            "name": .string(account.name), "admin": .bool(account.admin), "disabled": .bool(account.disabled),
            "created_at": .number(account.createdAt.rounded(.down)),
        ])
    }

    static func json(_ event: AuditRow) -> JSONValue {
        let labels = (try? JSONValue(parsing: Array(event.labels.utf8))) ?? .object([:])
        return .object([
            "id": .number(Double(event.id)), "at": .number(event.at), "principal": .string(event.principal),
            "action": .string(event.action), "object": .string(event.object), "labels": labels, "detail": .string(event.detail),
        ])
    }

    static func auditQuery(_ parameters: FlatDictionary<Substring, Substring>) throws(APIError) -> AuditQuery {
        func number(_ name: String) throws(APIError) -> Double? {
            guard let text = parameters[name[...]] else { return nil }
            guard let value = Double(text), value.isFinite else { throw .badRequest("\(name) must be seconds since 1970") }
            return value
        }
        var query = AuditQuery()
        query.principal = parameters["principal"].map(String.init)
        query.action = parameters["action"].map(String.init)
        query.object = parameters["object"].map(String.init)
        query.since = try number("since")
        query.until = try number("until")
        if let limit = parameters["limit"] {
            guard let value = Int(limit), (1...1000).contains(value) else { throw .badRequest("limit must be from 1 to 1000") }
            query.limit = value
        }
        return query
    }
}
