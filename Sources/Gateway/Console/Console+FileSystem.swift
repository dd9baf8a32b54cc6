import FileSystem
import Foundation
import FstnKit
import HTTPTypes
import Hummingbird
import JSONValues
import Labels
import NIOCore

/// The file system: an object's page (a directory's entries with their labels, a faceted
/// directory's facets, a file's bytes, a blob, a gate with its invoke form), downloads,
/// and the forms that create, upload and unlink.
extension Console {
    /// How many entries of a directory get their label looked up (one `GET` each).
    static let maxLabelledEntries = 200

    func addFileSystemRoutes(_ console: RouterGroup<GatewayContext>) {
        console.get("fs") { request, context in await self.signedIn(request, context) { await self.objectPage($0) } }
        console.get("fs/raw") { request, context in
            await self.signedIn(request, context) { person in
                let path = Self.pathParameter(person.request)
                return await self.download(person, "/v1/fs/" + PathEncoding.segment(path), query: [("raw", "true")], name: path)
            }
        }
        console.get("blob") { request, context in
            await self.signedIn(request, context) { person in
                let path = Self.pathParameter(person.request)
                return await self.download(person, "/v1/blobs/" + PathEncoding.segment(path), name: path)
            }
        }
        console.post("fs/create") { request, context in
            await self.signedInForm(request, context) { person, form in await self.create(person, form) }
        }
        console.post("fs/upload") { request, context in await self.uploadForm(request, context) }
        console.put("fs/upload") { request, context in await self.uploadStream(request, context) }
        console.post("fs/delete") { request, context in
            await self.signedInForm(request, context) { person, form in
                let path = form.trimmed("path") ?? ""
                let answer = await person.fs(.delete, path)
                guard answer.isSuccess else { return self.problemPage(person, person.problem(answer), labels: answer.refusalLabels) }
                return Self.redirect(Self.objectURL(Self.parent(of: path) ?? "home"))
            }
        }
    }

    static func pathParameter(_ request: Request) -> String {
        request.uri.queryParameters["path"].map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? "home"
    }

    static func objectURL(_ path: String) -> String { "/console/fs?path=" + PathEncoding.segment(path) }

    /// The path of the directory holding the last name of `path` (`nil` for a facet or a
    /// path of one name).
    static func parent(of path: String) -> String? {
        guard let parsed = try? FSPath(parsing: path), parsed.components.count > 1, let (parent, _) = parsed.parentAndName else { return nil }
        return parent.description
    }

    /// `GET /console/fs?path=P`: `GET /v1/fs/P`, and for a directory one `GET` per entry
    /// for its label.
    func objectPage(_ person: ConsolePerson) async -> Response {
        let query = person.request.uri.queryParameters
        var path = Self.pathParameter(person.request)
        if let facet = query["facet"], !facet.isEmpty { path += ":<\(facet)>" }
        var view = ObjectView(path: path, defaultLabel: person.session.label.description)
        let answer = await person.fs(.get, path)
        guard answer.isSuccess, let json = answer.json else {
            let problem = ProblemView(person.problem(answer), labels: answer.refusalLabels)
            return pages.render("fs", page(path, person, view: view, problem: problem, endLabel: answer.endLabel), status: answer.status)
        }
        view.kind = json["kind"]?.string ?? "?"
        view.label = LabelView(json["label"]?.string)
        switch view.kind {
        case "directory":
            view.isDirectory = true
            for (index, entry) in (json["entries"]?.array ?? []).enumerated() {
                guard let name = entry["name"]?.string else { continue }
                var row = EntryView(name: name, kind: entry["kind"]?.string ?? "?", path: path + ":" + name)
                if index < Self.maxLabelledEntries {
                    let child = await person.fs(.get, row.path)
                    if child.isSuccess {
                        row.label = LabelView(child.json?["label"]?.string)
                    } else {
                        row.hidden = child.status == .forbidden ? "label not shown: you may not read it" : "label not shown: \(person.problem(child).reason)"
                    }
                }
                view.entries.append(row)
            }
        case "faceted":
            view.isFaceted = true
            view.facets = (json["facets"]?.array ?? []).compactMap { $0.string }.map { FacetView(label: $0, path: path + ":<\($0)>") }
        case "file":
            let data = json["data"]?.string
            view.file = FileView(size: json["size"]?.int ?? 0, text: data.flatMap { $0.isEmpty ? nil : $0 })
        case "blob":
            view.blob = BlobView(size: json["size"]?.int ?? 0)
        case "gate":
            view.gate = GateView(json)
        case "service":
            view.service = ServiceView(settings: Self.settings(json["service"]))
        default:
            break
        }
        return pages.render("fs", page(path, person, view: view, endLabel: answer.endLabel))
    }

    /// An object's settings as name and value, sorted, without those in `except`.
    static func settings(_ object: JSONValue?, except: Set<String> = []) -> [Setting] {
        guard case let .object(fields)? = object else { return [] }
        return fields.filter { !except.contains($0.key) }.sorted { $0.key < $1.key }.map { Setting(name: $0.key.replacingOccurrences(of: "_", with: " "), value: $0.value.readable) }
    }

    /// A file's bytes or a blob, streamed from the API as an attachment (never shown in
    /// the page: a file holding HTML must not run as the console).
    func download(_ person: ConsolePerson, _ apiPath: String, query: [(String, String)] = [], name: String) async -> Response {
        let response = await person.api.respond(
            .get, apiPath, query: query, token: person.session.token, label: person.session.label.description, context: person.context)
        guard response.status == .ok else {
            let answer = await APIAnswer(response)
            return problemPage(person, person.problem(answer), labels: answer.refusalLabels)
        }
        var headers: HTTPFields = [
            .contentType: "application/octet-stream",
            .contentDisposition: Self.attachment(name),
            HTTPField.Name("Content-Security-Policy")!: "sandbox; default-src 'none'; frame-ancestors 'none'",
        ]
        if let length = response.headers[.contentLength] { headers[.contentLength] = length }
        if let label = response.headers[.faastenEndLabel] { headers[.faastenEndLabel] = label }
        return Response(status: .ok, headers: headers, body: response.body)
    }

    /// `attachment; filename="…"` with the path's last name, in ASCII and in UTF-8.
    static func attachment(_ path: String) -> String {
        let name = path.split(separator: ":").last.map(String.init) ?? "download"
        let ascii = String(name.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || "0123456789._-".unicodeScalars.contains($0)) ? Character($0) : "_" })
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(PathEncoding.segment(name))"
    }

    /// `POST /console/fs/create`: `POST /v1/fs/PARENT:NAME` with the kind, label and data.
    func create(_ person: ConsolePerson, _ form: ConsoleForm) async -> Response {
        let parent = form.trimmed("parent") ?? "home"
        guard let name = form.trimmed("name") else {
            return problemPage(person, ConsoleProblem(status: 400, reason: "give the new object a name"))
        }
        let kind = form.trimmed("kind") ?? "directory"
        var body: [String: JSONValue] = ["kind": .string(kind)]
        if let label = form.trimmed("label") { body["label"] = .string(label) }
        if kind == "file" { body["data"] = .string(form["data"] ?? "") }
        let path = parent + ":" + name
        let answer = await person.fs(.post, path, json: .object(body))
        guard answer.isSuccess else { return problemPage(person, person.problem(answer), labels: answer.refusalLabels) }
        return Self.redirect(Self.objectURL(path))
    }

    /// `POST /console/fs/upload`, the form without JavaScript (`multipart/form-data`,
    /// held in memory up to ``maxFormBytes``): `PUT /v1/blobs/PARENT:NAME?label=L`.
    func uploadForm(_ request: Request, _ context: GatewayContext) async -> Response {
        var request = request
        guard let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(of:)),
            let buffer = try? await request.collectBody(upTo: maxFormBytes),
            let form = try? MultipartForm(Array(buffer.readableBytesView), boundary: boundary)
        else {
            return pages.render(
                "message",
                Page<Void>(title: "Upload", problem: ProblemView(ConsoleProblem(status: 400, reason: "the upload is not a form of at most \(maxFormBytes) bytes", next: "upload larger files from a browser with JavaScript, or with `fstn blob put`"))),
                status: .badRequest)
        }
        let submitted = request
        return await signedIn(request, context) { person in
            func field(_ name: String) -> String? {
                form.fields[name].map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            if let refusal = self.forgeryRefusal(person, submitted, token: field("csrf")) { return refusal }
            guard let file = form.files.first else { return self.problemPage(person, ConsoleProblem(status: 400, reason: "choose a file to upload")) }
            let path = (field("parent") ?? "home") + ":" + (field("name") ?? file.name)
            let answer = await person.call(
                .put, "/v1/blobs/" + PathEncoding.segment(path), query: field("label").map { [("label", $0)] } ?? [], bytes: file.bytes)
            guard answer.isSuccess else { return self.problemPage(person, person.problem(answer), labels: answer.refusalLabels) }
            return Self.redirect(Self.objectURL(path))
        }
    }

    /// `PUT /console/fs/upload?parent=&name=&label=`, the console script's upload with
    /// progress: the body streams on to `PUT /v1/blobs/PARENT:NAME?label=L`. Answers JSON:
    /// `{location}` or `{problem: {reason, details, next}}`.
    func uploadStream(_ request: Request, _ context: GatewayContext) async -> Response {
        await signedIn(request, context) { person in
            let query = person.request.uri.queryParameters
            if self.forgeryRefusal(person, person.request, token: person.request.headers[ConsoleForgery.header]) != nil {
                return Self.json(["problem": ["reason": "this upload did not come from a page of your console session", "next": "reload the page"]], status: .forbidden)
            }
            let parent = query["parent"].map(String.init) ?? "home"
            guard let name = query["name"].map(String.init), !name.isEmpty else {
                return Self.json(["problem": ["reason": "give the blob a name"]], status: .badRequest)
            }
            let path = parent + ":" + name
            var headers: HTTPFields = [.contentType: "application/octet-stream"]
            if let length = person.request.headers[.contentLength] { headers[.contentLength] = length }
            let label = query["label"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let response = await person.api.respond(
                .put, "/v1/blobs/" + PathEncoding.segment(path), query: label.map { [("label", $0)] } ?? [], token: person.session.token,
                label: person.session.label.description, headers: headers, body: person.request.body, context: person.context)
            let answer = await APIAnswer(response)
            guard answer.isSuccess else {
                let problem = person.problem(answer)
                return Self.json(
                    ["problem": ["reason": .string(problem.reason), "details": .array(problem.details.map(JSONValue.string)), "next": problem.next.map(JSONValue.string) ?? .null]],
                    status: answer.status)
            }
            return Self.json(["location": .string(Self.objectURL(path))], status: .created)
        }
    }

    /// The refusal page for a request that is not from a console page of this session, or
    /// `nil` if it is.
    func forgeryRefusal(_ person: ConsolePerson, _ request: Request, token: String?) -> Response? {
        if ConsoleForgery.isSameOrigin(request), person.formTokens.contains(where: { ConsoleForgery.matches(token, $0) }) { return nil }
        return problemPage(
            person, ConsoleProblem(status: 403, reason: "this form did not come from a page of your console session", next: "reload the page and submit it again"),
            status: .forbidden)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        value.response(status: status)
    }
}

extension APIAnswer {
    /// The labels a refusal names (`labels` in its JSON).
    var refusalLabels: [String: String] {
        guard case let .object(labels)? = json?["labels"] else { return [:] }
        return labels.compactMapValues(\.string)
    }
}

/// An FS object's page.
struct ObjectView: Sendable {
    let path: String
    let pathQuery: String
    let name: String
    let crumbs: [Crumb]
    let canDelete: Bool
    let defaultLabel: String
    var kind = ""
    var label: LabelView?
    var isDirectory = false
    var entries: [EntryView] = []
    var isFaceted = false
    var facets: [FacetView] = []
    var file: FileView?
    var blob: BlobView?
    var gate: GateView?
    var service: ServiceView?
    /// The invoke form's input.
    var input = "{}"

    init(path: String, defaultLabel: String) {
        self.path = path
        pathQuery = PathEncoding.segment(path)
        self.defaultLabel = defaultLabel
        let parsed = try? FSPath(parsing: path)
        let parts = parsed?.components.map { FSPath([$0]).description } ?? [path]
        name = parts.last ?? path
        crumbs = parts.indices.map {
            Crumb(name: parts[$0], path: parts[...$0].joined(separator: ":"), last: $0 == parts.count - 1)
        }
        canDelete = Console.parent(of: path) != nil
    }
}

struct Crumb: Sendable {
    let name: String
    let pathQuery: String
    /// The object itself: no separator after it.
    let last: Bool
    init(name: String, path: String, last: Bool) {
        self.name = name
        pathQuery = PathEncoding.segment(path)
        self.last = last
    }
}

struct EntryView: Sendable {
    let name: String
    let kind: String
    let path: String
    let pathQuery: String
    var label: LabelView?
    var hidden: String?

    init(name: String, kind: String, path: String) {
        self.name = name
        self.kind = kind
        self.path = path
        pathQuery = PathEncoding.segment(path)
    }
}

struct FacetView: Sendable {
    let name: String
    let pathQuery: String
    let label: LabelView?
    init(label: String, path: String) {
        name = "<\(label)>"
        pathQuery = PathEncoding.segment(path)
        self.label = LabelView(label)
    }
}

struct FileView: Sendable {
    let size: Int
    let text: String?
}

struct BlobView: Sendable {
    let size: Int
}

struct ServiceView: Sendable {
    let settings: [Setting]
}

/// A gate's settings in words: the privilege it runs with, who may invoke it, what its
/// results release (fstn's ``GateAccess``), and the rest as they are.
struct GateView: Sendable {
    let privilege: String
    let privilegeWords: String
    let invokerClearance: String
    let invokers: String
    let results: String
    let settings: [Setting]

    init(_ object: JSONValue) {
        let gate = object["gate"]
        privilege = gate?["privilege"]?.string ?? "?"
        privilegeWords = (try? Privilege(parsing: privilege)).map(LabelWords.actingAs) ?? privilege
        invokerClearance = gate?["invoker_clearance"]?.string ?? "?"
        let access = GateAccess(object: object)
        invokers = access?.invokers ?? "unknown"
        results = access?.results ?? "unknown"
        settings = Console.settings(gate, except: ["privilege", "invoker_clearance"])
    }
}
