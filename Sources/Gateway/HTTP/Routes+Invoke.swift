import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Labels
import Monitor
import NIOCore
import Store
import Worker
import JSONValues

extension Gateway {
    func addInvokeRoutes(_ router: Router<GatewayContext>) {
        route(router, .post, "/v1/invoke/{path}") { request, context -> Response in
            try await self.invoke(request, context, allowAsync: true)
        }
        // The original's endpoint (faasten-reference §6.1), synchronous.
        route(router, .post, "/faasten/invoke/{path}") { request, context -> Response in
            try await self.invoke(request, context, allowAsync: false)
        }
        route(router, .get, "/v1/invocations/{id}") { request, context -> Response in
            let caller = try await self.caller(request)
            let view = try await self.view(try request.pathParameter("id", context), caller)
            var fields: [String: JSONValue] = [
                "id": .string(view.id), "target": .string(view.target), "parent": view.parent.map(JSONValue.string) ?? .null,
                "invoker": .string(view.invoker), "state": .string(view.state), "submitted_at": .number(view.submittedAt),
                "started_at": view.startedAt.map(JSONValue.number) ?? .null, "finished_at": view.finishedAt.map(JSONValue.number) ?? .null, "attempts": .number(Double(view.attempts)),
                "result_label": view.resultLabel.map { .string($0.description) } ?? .null,
            ]
            switch view.outcome {
            case nil:
                fields["outcome"] = .null
            case let .failure(error)?:
                var refusal = APIError.refused(
                    error, labels: ["result": view.resultLabel?.description ?? "", "privilege": caller.privilege.description])
                refusal.headers[.faastenEndLabel] = view.resultLabel?.description
                throw refusal
            case let .success(outcome)?:
                fields["outcome"] = Self.json(outcome)
            }
            var response = JSONValue.object(fields).response()
            if let label = view.resultLabel { response.headers[.faastenEndLabel] = label.description }
            return response
        }
        route(router, .get, "/v1/invocations/{id}/logs") { request, context -> Response in
            let caller = try await self.caller(request)
            let view = try await self.view(try request.pathParameter("id", context), caller)
            switch view.logs {
            case let .failure(error)?:
                throw APIError.refused(error, labels: ["privilege": caller.privilege.description])
            case let .success(bytes)?:
                return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            case nil:
                return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody())
            }
        }
    }

    /// Stores a form's files as the invocation's request blobs, once the invocation is
    /// known to be admitted: a refused one stores nothing.
    private func storeRequestBlobs(_ files: [(name: String, bytes: [UInt8])], for invocation: InvocationRequest, caller: Caller)
        async throws -> [String: ExistingBlob]
    {
        if case let .failure(refusal) = await Admission.admit(invocation, in: fileSystem, maxChainDepth: 0) {
            throw APIError.refusedInvocation(refusal.error, label: refusal.label, privilege: caller.privilege)
        }
        let blobs = fileSystem.blobs
        var stored: [String: ExistingBlob] = [:]
        for file in files {
            let bytes = file.bytes
            do {
                stored[file.name] = try await Blocking.run { () throws -> ExistingBlob in try blobs.store(bytes) }
            } catch {
                throw APIError(.internalServerError, "internal", "cannot store the request blob \(file.name): \(error)")
            }
        }
        return stored
    }

    /// A finished invocation's outcome as the API shows it: `{status, response_status,
    /// body | body_base64, code, error}`.
    static func json(_ outcome: InvocationRecord.Outcome) -> JSONValue {
        var described: [String: JSONValue] = ["status": "failed", "response_status": .null, "error": .null, "code": .null]
        switch outcome {
        case let .completed(status, body):
            described["status"] = "completed"
            described["response_status"] = .number(Double(status))
            if let text = String(validating: body, as: UTF8.self) {
                described["body"] = .string(text)
            } else {
                described["body_base64"] = .string(Data(body).base64EncodedString())
            }
        case let .refused(reason):
            described["code"] = "refused"
            described["error"] = .string(reason)
        case let .failed(code, reason):
            described["code"] = .string(code)
            described["error"] = .string(reason)
        case let .busy(reason):
            described["code"] = "busy"
            described["error"] = .string(reason)
        }
        return .object(described)
    }

    /// A result the release rule withholds from its invoker. Not a bare refusal: the
    /// function ran, under its gate's rules, and what it did stands.
    static func withheld(_ error: FSError, invocation: String, labels: [String: String]) -> APIError {
        var refusal = APIError.refused(error, labels: labels)
        refusal = APIError(
            .forbidden, "refused",
            "the function ran (invocation \(invocation)) and its effects stand, but its result is withheld: \(error)",
            extra: refusal.extra.merging(["invocation": .string(invocation), "ran": true, "effects": "stand"]) { $1 })
        return refusal
    }

    /// A submission that was not accepted (nothing was recorded): a refusal is a 403 with
    /// its rule and labels (a bad request a 400, no gate a 404), a full queue a 503.
    static func submissionError(_ error: any Error, caller: Caller) -> APIError {
        switch error {
        case let SubmissionError.refused(refusal, label):
            return .refusedInvocation(refusal, label: label, privilege: caller.privilege)
        case let SubmissionError.busy(reason):
            return .unavailable("busy: \(reason)", retryAfter: 1)
        default:
            return .unavailable("cannot queue the invocation: \(error)", retryAfter: 5)
        }
    }

    private func view(_ id: String, _ caller: Caller) async throws(APIError) -> InvocationView {
        let view: InvocationView?
        do {
            view = try await dispatcher.invocation(id, visibleTo: caller.privilege)
        } catch {
            throw APIError(.internalServerError, "internal", "cannot read the invocation record: \(error)")
        }
        // Someone else's invocation is reported as absent, not as forbidden.
        guard let view else { throw .notFound("no invocation \(id) that you may see") }
        return view
    }

    /// faasten-reference §4.2: the caller's privilege (T if anonymous), the start label
    /// from the header, the gate resolved in that context, the result shown only if it
    /// passes the release check (``ReleaseMiddleware``).
    func invoke(_ request: Request, _ context: GatewayContext, allowAsync: Bool) async throws -> Response {
        guard !draining else { throw APIError.unavailable("the server is shutting down", retryAfter: 5) }
        let caller = try await self.caller(request)
        let path = try fsPath(request, context)
        var request = request
        var payload = try await request.bytes(upTo: configuration.maxPayloadBytes)
        // The original API also takes a form: `payload`, `label` (the start label, under
        // the same start rule as the header) and files, each a request blob.
        var form: MultipartForm?
        if !allowAsync, let type = request.headers[.contentType], let boundary = MultipartForm.boundary(of: type) {
            do {
                form = try MultipartForm(payload, boundary: boundary)
            } catch {
                throw APIError.badRequest("the form: \(error)")
            }
            payload = form?.fields["payload"] ?? []
        }
        let fieldLabel = try form?.fields["label"].map { text throws(APIError) in
            try Self.parseLabel(String(decoding: text, as: UTF8.self), "label")
        }
        let security = try invocationContext(request, caller, label: fieldLabel)
        var headers: [String: String] = [:]
        for field in request.headers where ![.authorization, .cookie].contains(field.name) {
            let name = field.name.canonicalName.lowercased()
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        var invocation = InvocationRequest(
            target: .path(path), startLabel: security.label, clearance: security.clearance, invoker: caller.privilege,
            payload: payload, headers: headers)
        if let files = form?.files, !files.isEmpty {
            invocation.blobs = try await storeRequestBlobs(files, for: invocation, caller: caller)
        }
        let wantsAsync =
            request.uri.queryParameters["async"] == "true" || (request.headers[.prefer]?.lowercased().contains("respond-async") ?? false)
        if allowAsync && wantsAsync {
            let id: String
            do {
                id = try await dispatcher.submit(invocation)
            } catch {
                throw Self.submissionError(error, caller: caller)
            }
            var response = JSONValue.object(["id": .string(id), "status_url": .string("/v1/invocations/\(id)")]).response(status: .accepted)
            response.headers[.faastenInvocation] = id
            response.headers[.location] = "/v1/invocations/\(id)"
            return response
        }
        let result = await dispatcher.invoke(invocation)
        // Only an invocation that ran is recorded: a refused or busy one names none.
        let ran: Bool
        switch result.outcome {
        case .completed, .failed: ran = true
        case .refused, .busy: ran = false
        }
        context.release.record(result.label, to: caller.privilege, role: "result", invocation: ran ? result.id : nil)
        switch result.outcome {
        case let .completed(response):
            let status = (100...599).contains(response.status) ? response.status : 200
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
        case let .refused(error):
            throw APIError.from(error)
        case let .failed(failure):
            if case .timeout = failure { throw APIError(.gatewayTimeout, "timeout", failure.description) }
            throw APIError(.badGateway, "function_failed", failure.description, extra: ["code": .string(failure.code)])
        case let .busy(reason):
            throw APIError.unavailable("busy: \(reason)", retryAfter: 1)
        }
    }
}
