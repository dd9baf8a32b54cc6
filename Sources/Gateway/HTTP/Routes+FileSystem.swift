import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Labels
import NIOCore
import Store
import JSONValues

extension Gateway {
    func addFileSystemRoutes(_ router: Router<GatewayContext>) {
        let limit = configuration.maxJSONBytes
        route(router, .get, "/v1/fs/{path}") { request, context -> Response in
            let caller = try await self.caller(request)
            let path = try self.fsPath(request, context)
            let raw = request.uri.queryParameters["raw"] == "true"
            return try await self.labeled(request, context, caller) { fs, ctx in
                let entry = try await fs.resolve(path, &ctx)
                return try await self.describe(entry, path: path, raw: raw, &ctx)
            }
        }
        route(router, .post, "/v1/fs/{path}") { request, context -> Response in
            let caller = try await self.caller(request)
            let (parent, name) = try self.parentAndName(request, context)
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            let label = try Self.label(body, "label")
            let kind = try body.string("kind")
            let requested = try Self.objectRequest(kind, body)
            return try await self.labeled(request, context, caller) { fs, ctx in
                let path = FSPath(parent.components + [.name(name)])
                // Described from what was written, in the same transaction: reading the new
                // object back would refuse a blind write up (above what the caller may be
                // shown) after it had happened.
                let (entry, fields) = try await fs.transaction(.write, &ctx) { session, ctx throws(FSError) in
                    let directory = try session.resolve(parent, &ctx)
                    let object = try requested.resolve(session, &ctx)
                    let entry = try session.create(object, label: label, named: name, in: directory, &ctx)
                    return (entry, try Self.created(object, session, &ctx))
                }
                if kind == "gate" || kind == "service" {
                    self.audit.record(
                        AuditEvent(
                            principal: caller.privilege.description, action: "\(kind)_create", object: "\(parent):\(name)",
                            labels: ["object": entry.label?.description ?? "", "context": ctx.label.description]))
                }
                return Self.describeCreated(entry, path: path, fields)
            }
        }
        route(router, .put, "/v1/fs/{path}") { request, context -> Response in
            let caller = try await self.caller(request)
            let path = try self.fsPath(request, context)
            var request = request
            let bytes = try await request.bytes(upTo: self.configuration.maxPayloadBytes)
            return try await self.labeled(request, context, caller) { fs, ctx in
                try await fs.transaction(.write, &ctx) { session, ctx throws(FSError) in
                    let file = try session.resolve(path, &ctx)
                    try session.write(file: file, bytes, &ctx)
                }
                return JSONValue.object(["kind": "file", "size": .number(Double(bytes.count))]).response()
            }
        }
        route(router, .patch, "/v1/fs/{path}") { request, context -> Response in
            let caller = try await self.caller(request)
            let path = try self.fsPath(request, context)
            var request = request
            let body = try await request.jsonFields(upTo: limit)
            let change = try Self.gateUpdate(body)
            return try await self.labeled(request, context, caller) { fs, ctx in
                let entry = try await fs.transaction(.write, &ctx) { session, ctx throws(FSError) in
                    let gate = try session.resolve(path, &ctx)
                    try session.update(gate: gate, try change.resolve(session, &ctx), &ctx)
                    return gate
                }
                self.audit.record(
                    AuditEvent(
                        principal: caller.privilege.description, action: "gate_update", object: path.description,
                        labels: ["object": entry.label?.description ?? "", "context": ctx.label.description]))
                return try await self.describe(entry, path: path, raw: false, &ctx)
            }
        }
        route(router, .delete, "/v1/fs/{path}") { request, context -> Response in
            let caller = try await self.caller(request)
            let (parent, name) = try self.parentAndName(request, context)
            return try await self.labeled(request, context, caller) { fs, ctx in
                try await fs.transaction(.write, &ctx) { session, ctx throws(FSError) in
                    try session.unlink(try session.resolve(parent, &ctx), name, &ctx)
                }
                return Response(status: .noContent)
            }
        }
        route(router, .post, "/v1/fs/{path}/link") { request, context -> Response in
            let caller = try await self.caller(request)
            let (parent, name) = try self.parentAndName(request, context)
            var request = request
            let target = try Self.path(try (try await request.jsonFields(upTo: limit)).string("target"))
            return try await self.labeled(request, context, caller) { fs, ctx in
                let entry = try await fs.transaction(.write, &ctx) { session, ctx throws(FSError) in
                    let object = try session.resolve(target, &ctx)
                    try session.link(try session.resolve(parent, &ctx), name, object, &ctx)
                    return object
                }
                return JSONValue.object([
                    "kind": .string(Self.kindName(entry.kind)), "label": entry.label.map { .string($0.description) } ?? .null,
                    "path": .string(FSPath(parent.components + [.name(name)]).description),
                ]).response(status: .created)
            }
        }
        route(router, .put, "/v1/blobs/{path}") { request, context -> Response in
            let caller = try await self.caller(request)
            let (parent, name) = try self.parentAndName(request, context)
            let label = try request.uri.queryParameters["label"].map { text throws(APIError) in try Self.parseLabel(String(text), "label") }
            return try await self.labeled(request, context, caller) { fs, ctx in
                // The checks first, so that a refused upload is refused before its body is
                // read and stores nothing; then the body, streamed into the blob store
                // (unreadable until an entry points at it); then the entry, checked again.
                var probe = ctx
                try await fs.transaction(.read, &probe) { session, ctx throws(FSError) in
                    try session.checkPut(blobNamed: name, label: label, in: try session.resolve(parent, &ctx), &ctx)
                }
                let (blob, size) = try await self.upload(request.body)
                let entry = try await fs.transaction(.write, &ctx) { session, ctx throws(FSError) -> Entry in
                    try session.put(blob: blob, named: name, label: label, in: try session.resolve(parent, &ctx), &ctx)
                }
                return Self.describeCreated(
                    entry, path: FSPath(parent.components + [.name(name)]),
                    ["blob": .string(blob.name.hex), "size": .number(Double(size))])
            }
        }
        route(router, .get, "/v1/blobs/{path}") { request, context -> Response in
            let caller = try await self.caller(request)
            let path = try self.fsPath(request, context)
            return try await self.labeled(request, context, caller) { fs, ctx in
                let reader = try await fs.openBlob(try await fs.resolve(path, &ctx), &ctx)
                return Self.stream(reader)
            }
        }
    }

    /// Runs a file-system operation in the request's context (see
    /// ``requestContext(_:_:)``: its clearance is what the caller may be shown, so an
    /// operation that would end above that is refused before it has any effect), and
    /// records the label it ended at, result or error, for ``ReleaseMiddleware``.
    func labeled(
        _ request: Request, _ gatewayContext: GatewayContext, _ caller: Caller,
        _ body: (FileSystem, inout SecurityContext) async throws -> Response
    ) async throws -> Response {
        var context = try requestContext(request, caller)
        defer { gatewayContext.release.record(context.label, to: caller.privilege) }
        return try await body(fileSystem, &context)
    }

    func parentAndName(_ request: Request, _ context: GatewayContext) throws(APIError) -> (FSPath, String) {
        guard let split = try fsPath(request, context).parentAndName else { throw .badRequest("the path must end with a name") }
        return split
    }

    /// The API's description of an object (reading it taints the context). A faceted
    /// directory lists the facets up to the request's clearance (what the caller may be
    /// shown, or lower with `X-Faasten-Clearance`), and taints with it.
    func describe(
        _ entry: Entry, path: FSPath, raw: Bool, _ context: inout SecurityContext, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var fields: [String: JSONValue] = [
            "kind": .string(Self.kindName(entry.kind)), "label": entry.label.map { .string($0.description) } ?? .null,
            "path": .string(path.description),
        ]
        switch entry.kind {
        case .directory:
            let entries = try await fileSystem.list(entry, &context)
            fields["entries"] = .array(entries.map { .object(["name": .string($0.name), "kind": .string(Self.kindName($0.kind))]) })
        case .facetedDirectory:
            let facets = try await fileSystem.listFacets(entry, under: context.clearance, &context)
            fields["facets"] = .array(facets.map { .string($0.description) })
        case .file:
            let bytes = try await fileSystem.read(file: entry, &context)
            if raw {
                return Response(
                    status: status, headers: [.contentType: "application/octet-stream"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            fields["size"] = .number(Double(bytes.count))
            if let text = String(validating: bytes, as: UTF8.self) {
                fields["data"] = .string(text)
            } else {
                fields["data_base64"] = .string(Data(bytes).base64EncodedString())
            }
        case .gate:
            fields["gate"] = Self.json(try await fileSystem.read(gate: entry, &context))
        case .service:
            fields["service"] = Self.json(try await fileSystem.read(service: entry, &context))
        case .blob:
            let reader = try await fileSystem.openBlob(entry, &context)
            fields["blob"] = .string(reader.name.hex)
            fields["size"] = .number(Double(reader.size))
        }
        return JSONValue.object(fields).response(status: status)
    }
}
