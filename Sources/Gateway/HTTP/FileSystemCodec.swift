import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Labels
import NIOCore
import Store
import JSONValues

// The file-system API's JSON: requests parsed into the file system's types, objects
// described. It decides nothing: paths, labels and a gate's settings are checked by
// their owners (FSPath, the label parser, ``FunctionSettings``).
extension Gateway {
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

    /// What the API shows of a new object: the content its creator sent; for a gate, the
    /// gate as stored, rebuilt from the spec (its image's blob entry was read by the
    /// creation, which tainted the context with it).
    static func created(_ object: NewObject, _ session: FileSystemSession, _ context: inout SecurityContext) throws(FSError)
        -> [String: JSONValue]
    {
        if case let .gate(spec) = object { return ["gate": json(try session.gate(from: spec, &context))] }
        return createdContent(object)
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
        case gate(image: FSPath?, redirect: FSPath?, runtime: String?, memoryMB: Int?, timeoutMilliseconds: Int?, fresh: Bool,
            concurrency: Int?, privilege: Privilege, invokerClearance: Component?, declassify: Component?)

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
                image: image, redirect: redirect, runtime: try body.optionalString("runtime"),
                memoryMB: try body.optionalInt("memory_mb"), timeoutMilliseconds: try body.optionalInt("timeout_ms"),
                fresh: try body.optionalBool("fresh") ?? false, concurrency: try body.optionalInt("concurrency"),
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
        update.runtime = try body.optionalString("runtime")
        update.memoryMB = try body.optionalInt("memory_mb")
        update.timeoutMilliseconds = try body.optionalInt("timeout_ms")
        update.fresh = try body.optionalBool("fresh")
        update.concurrency = try body.optionalInt("concurrency")
        return GateChange(
            update: update, image: try body.optionalString("image").map { text throws(APIError) in try path(text) },
            redirect: try body.optionalString("redirect").map { text throws(APIError) in try path(text) })
    }
}
