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
            return try await self.labeled(request, caller) { fs, ctx in
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
            return try await self.labeled(request, caller) { fs, ctx in
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
            return try await self.labeled(request, caller) { fs, ctx in
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
            return try await self.labeled(request, caller) { fs, ctx in
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
            return try await self.labeled(request, caller) { fs, ctx in
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
            return try await self.labeled(request, caller) { fs, ctx in
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
            return try await self.labeled(request, caller) { fs, ctx in
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
            return try await self.labeled(request, caller) { fs, ctx in
                let reader = try await fs.openBlob(try await fs.resolve(path, &ctx), &ctx)
                return Self.stream(reader)
            }
        }
    }

    /// Runs a file-system operation in the request's context (see
    /// ``requestContext(_:_:)``: its clearance is what the caller may be shown, so an
    /// operation that would end above that is refused before it has any effect), then
    /// applies the release check to the label it ended at before showing anything,
    /// result or error.
    func labeled(
        _ request: Request, _ caller: Caller, _ body: (FileSystem, inout SecurityContext) async throws -> Response
    ) async throws -> Response {
        var context = try requestContext(request, caller)
        let outcome: Result<Response, any Error>
        do {
            outcome = .success(try await body(fileSystem, &context))
        } catch {
            outcome = .failure(error)
        }
        let end = context.label.description
        do {
            try ReleaseCheck.check(context.label, to: caller.privilege)
        } catch {
            var refusal = APIError.refused(error, labels: ["end": end, "privilege": caller.privilege.description])
            refusal.headers[.faastenEndLabel] = end
            throw refusal
        }
        switch outcome {
        case var .success(response):
            response.headers[.faastenEndLabel] = end
            return response
        case let .failure(error):
            var apiError: APIError
            if let error = error as? APIError {
                apiError = error
            } else if let error = error as? FSError {
                apiError = .from(error)
            } else {
                throw error
            }
            apiError.headers[.faastenEndLabel] = end
            throw apiError
        }
    }

    func parentAndName(_ request: Request, _ context: GatewayContext) throws(APIError) -> (FSPath, String) {
        guard let split = try fsPath(request, context).parentAndName else { throw .badRequest("the path must end with a name") }
        return split
    }

    static func path(_ text: String) throws(APIError) -> FSPath {
        do {
            return try FSPath(parsing: text)
        } catch {
            throw .badRequest("\(error)")
        }
    }

    static func parseLabel(_ text: String, _ field: String) throws(APIError) -> Label {
        do {
            return try Label(parsing: text)
        } catch {
            throw .badRequest("\(field): \(error)")
        }
    }

    static func label(_ body: JSONFields, _ field: String) throws(APIError) -> Label? {
        try body.optionalString(field).map { text throws(APIError) in try parseLabel(text, field) }
    }

    static func component(_ body: JSONFields, _ field: String) throws(APIError) -> Component? {
        guard let text = try body.optionalString(field) else { return nil }
        do {
            return try Component(parsing: text)
        } catch {
            throw .badRequest("\(field): \(error)")
        }
    }

    static func kindName(_ kind: ObjectKind) -> String {
        switch kind {
        case .directory: return "directory"
        case .facetedDirectory: return "faceted"
        case .file: return "file"
        case .gate: return "gate"
        case .service: return "service"
        case .blob: return "blob"
        }
    }

    /// The API's description of an object just created: what was written, read from
    /// nothing (see ``created(_:_:_:)``).
    static func describeCreated(_ entry: Entry, path: FSPath, _ fields: [String: JSONValue]) -> Response {
        var fields = fields
        fields["kind"] = .string(kindName(entry.kind))
        fields["label"] = entry.label.map { .string($0.description) } ?? .null
        fields["path"] = .string(path.description)
        return JSONValue.object(fields).response(status: .created)
    }

    /// What the API shows of a new object: the content its creator sent, and the blob a
    /// gate's image names (read by the creation, which tainted the context with it).
    static func created(_ object: NewObject, _ session: FileSystemSession, _ context: inout SecurityContext) throws(FSError)
        -> [String: JSONValue]
    {
        if case let .gate(spec) = object {
            var image: BlobName?
            if case let .function(function) = spec.target {
                image = try session.read(blob: function.image, &context)
            }
            return ["gate": createdGate(spec, image: image)]
        }
        return createdContent(object)
    }

    private static func createdGate(_ spec: GateSpec, image: BlobName?) -> JSONValue {
        var fields: [String: JSONValue] = [
            "privilege": .string(spec.privilege.description),
            "invoker_clearance": .string((spec.invokerIntegrityClearance ?? spec.privilege.component).description),
            "declassify": .string((spec.declassify ?? Gate.defaultDeclassify).description),
        ]
        if case let .function(function) = spec.target {
            fields["runtime"] = .string(function.runtime)
            fields["memory_mb"] = .number(Double(function.memoryMB))
            fields["timeout_ms"] = .number(Double(function.timeoutMilliseconds))
            fields["fresh"] = .bool(function.fresh)
            fields["concurrency"] = .number(Double(function.concurrency))
        }
        if let image { fields["image"] = .string(image.hex) }
        if case let .redirect(next) = spec.target, let id = next.objectID { fields["redirect"] = .number(Double(id)) }
        return .object(fields)
    }

    private static func createdContent(_ object: NewObject) -> [String: JSONValue] {
        switch object {
        case .directory: return ["entries": .array([])]
        case .facetedDirectory: return ["facets": .array([])]
        case let .file(bytes):
            var fields: [String: JSONValue] = ["size": .number(Double(bytes.count))]
            if let text = String(validating: bytes, as: UTF8.self) {
                fields["data"] = .string(text)
            } else {
                fields["data_base64"] = .string(Data(bytes).base64EncodedString())
            }
            return fields
        case let .blob(blob): return ["blob": .string(blob.name.hex)]
        case let .service(service): return ["service": json(service)]
        case .gate: return [:]
        }
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

    static func json(_ gate: Gate) -> JSONValue {
        var fields: [String: JSONValue] = [
            "privilege": .string(gate.privilege.description), "invoker_clearance": .string(gate.invokerIntegrityClearance.description),
            "declassify": .string(gate.declassify.description),
        ]
        switch gate.target {
        case let .function(spec):
            fields["runtime"] = .string(spec.runtime)
            fields["image"] = .string(spec.image.hex)
            fields["memory_mb"] = .number(Double(spec.memoryMB))
            fields["timeout_ms"] = .number(Double(spec.timeoutMilliseconds))
            fields["fresh"] = .bool(spec.fresh)
            fields["concurrency"] = .number(Double(spec.concurrency))
        case let .redirect(id):
            fields["redirect"] = .number(Double(id))
        }
        return .object(fields)
    }

    static func json(_ service: Service) -> JSONValue {
        .object([
            "url": .string(service.url), "verb": .string(service.verb.rawValue), "privilege": .string(service.privilege.description),
            "invoker_clearance": .string(service.invokerIntegrityClearance.description), "taint": .string(service.taint.description),
            "headers": .object(service.headers.mapValues(JSONValue.string)),
        ])
    }

    /// What a create request asks for, checked before any transaction; the paths it
    /// names (an image, a redirect target) are resolved inside it.
    enum ObjectRequest: Sendable {
        case ready(NewObject)
        case gate(image: FSPath?, redirect: FSPath?, runtime: String, memoryMB: Int, timeoutMilliseconds: Int, fresh: Bool,
            concurrency: Int, privilege: Privilege, invokerClearance: Component?, declassify: Component?)

        func resolve(_ session: FileSystemSession, _ context: inout SecurityContext) throws(FSError) -> NewObject {
            switch self {
            case let .ready(object): return object
            case let .gate(image, redirect, runtime, memoryMB, timeout, fresh, concurrency, privilege, invokerClearance, declassify):
                let target: GateSpec.Target
                if let redirect {
                    target = .redirect(try session.resolve(redirect, &context))
                } else {
                    target = .function(
                        runtime: runtime, image: try session.resolve(image!, &context), memoryMB: memoryMB, timeoutMilliseconds: timeout,
                        fresh: fresh, concurrency: concurrency)
                }
                return .gate(
                    GateSpec(target: target, privilege: privilege, invokerIntegrityClearance: invokerClearance, declassify: declassify))
            }
        }
    }

    static func objectRequest(_ kind: String, _ body: JSONFields) throws(APIError) -> ObjectRequest {
        switch kind {
        case "directory": return .ready(.directory)
        case "faceted": return .ready(.facetedDirectory)
        case "file":
            if let base64 = try body.optionalString("data_base64") {
                guard let data = Data(base64Encoded: base64) else { throw .badRequest("data_base64 is not base64") }
                return .ready(.file([UInt8](data)))
            }
            return .ready(.file(Array((try body.optionalString("data") ?? "").utf8)))
        case "gate":
            guard let privilege = try component(body, "privilege") else { throw .badRequest("a gate needs a privilege") }
            let image = try body.optionalString("image").map { text throws(APIError) in try path(text) }
            let redirect = try body.optionalString("redirect").map { text throws(APIError) in try path(text) }
            guard (image == nil) != (redirect == nil) else { throw .badRequest("a gate needs exactly one of image and redirect") }
            return .gate(
                image: image, redirect: redirect, runtime: try runtime(body) ?? "python3",
                memoryMB: try body.optionalInt("memory_mb", in: 16...65536) ?? 128,
                timeoutMilliseconds: try body.optionalInt("timeout_ms", in: 1...3_600_000) ?? 30_000,
                fresh: try body.optionalBool("fresh") ?? false, concurrency: try body.optionalInt("concurrency", in: 0...10_000) ?? 0,
                privilege: Privilege(privilege), invokerClearance: try component(body, "invoker_clearance"),
                declassify: try component(body, "declassify"))
        case "service":
            guard let privilege = try component(body, "privilege") else { throw .badRequest("a service needs a privilege") }
            guard let taint = try label(body, "taint") else { throw .badRequest("a service needs a taint label") }
            let verbText = (try body.optionalString("verb") ?? "GET").uppercased()
            guard let verb = HTTPVerb(rawValue: verbText) else {
                throw .badRequest("verb must be one of \(HTTPVerb.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var headers: [String: String] = [:]
            for (name, value) in try body.optionalObject("headers") ?? [:] {
                guard case let .string(text) = value else { throw .badRequest("headers.\(name) must be a string") }
                headers[name] = text
            }
            return .ready(
                .service(
                    Service(
                        privilege: Privilege(privilege), invokerIntegrityClearance: try component(body, "invoker_clearance") ?? .true,
                        taint: taint, url: try body.string("url"), verb: verb, headers: headers)))
        default:
            throw .badRequest("kind must be directory, faceted, file, gate or service (blobs: PUT /v1/blobs/{path})")
        }
    }

    static func runtime(_ body: JSONFields) throws(APIError) -> String? {
        guard let runtime = try body.optionalString("runtime") else { return nil }
        guard ["python3", "node"].contains(runtime) else { throw .badRequest("runtime must be python3 or node") }
        return runtime
    }

    /// A gate change, checked before any transaction (paths resolved inside it).
    struct GateChange: Sendable {
        var update: GateUpdate
        var image: FSPath?
        var redirect: FSPath?

        func resolve(_ session: FileSystemSession, _ context: inout SecurityContext) throws(FSError) -> GateUpdate {
            var update = update
            if let image { update.image = try session.resolve(image, &context) }
            if let redirect { update.redirect = try session.resolve(redirect, &context) }
            return update
        }
    }

    static func gateUpdate(_ body: JSONFields) throws(APIError) -> GateChange {
        var update = GateUpdate()
        update.privilege = try component(body, "privilege").map(Privilege.init)
        update.invokerIntegrityClearance = try component(body, "invoker_clearance")
        update.declassify = try component(body, "declassify")
        update.runtime = try runtime(body)
        update.memoryMB = try body.optionalInt("memory_mb", in: 16...65536)
        update.timeoutMilliseconds = try body.optionalInt("timeout_ms", in: 1...3_600_000)
        update.fresh = try body.optionalBool("fresh")
        update.concurrency = try body.optionalInt("concurrency", in: 0...10_000)
        return GateChange(
            update: update, image: try body.optionalString("image").map { text throws(APIError) in try path(text) },
            redirect: try body.optionalString("redirect").map { text throws(APIError) in try path(text) })
    }

    /// Streams a request body into a new blob, a chunk at a time; returns it and its size.
    func upload(_ body: RequestBody) async throws(APIError) -> (ExistingBlob, Int64) {
        let blobs = fileSystem.store.blobs
        let limit = configuration.maxBlobBytes
        do {
            let upload = try await Blocking.run { try blobs.create() }
            do {
                for try await buffer in body {
                    let bytes = Array(buffer.readableBytesView)
                    guard upload.size + Int64(bytes.count) <= limit else { throw APIError.tooLarge("a blob holds at most \(limit) bytes") }
                    try await Blocking.run { try upload.write(bytes) }
                }
                let size = upload.size
                let name = try await Blocking.run { try upload.finalize() }
                return (try await Blocking.run { try blobs.existing(name) }, size)
            } catch {
                upload.abort()
                throw error
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, "internal", "cannot store the blob: \(error)")
        }
    }

    /// A blob's bytes as a streamed response.
    static func stream(_ reader: any BlobReader) -> Response {
        let body = ResponseBody(contentLength: Int(reader.size)) { writer in
            var offset: Int64 = 0
            while offset < reader.size {
                let at = offset
                let chunk = try await Blocking.run { try reader.read(at: at, count: 1 << 20) }
                if chunk.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: chunk))
                offset += Int64(chunk.count)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }
}
