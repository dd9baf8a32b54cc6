import Foundation
import FstnKit
import HTTPTypes
import Hummingbird
import HummingbirdCore
import JSONValues
import NIOCore
import NIOHTTP1

/// The console's only way to the platform: the public HTTP API, answered by the
/// gateway's own router in this process. Each call is the request `fstn` or `curl` would
/// send with the person's token (`Authorization`, `X-Faasten-Label`, the body), so it
/// passes the same authentication, flow rules, release rule, rate limits and logs, and
/// the console can show nothing the API would not give that token.
///
/// ```swift
/// let answer = await api.send(.get, "/v1/me", token: session.token, context: context)
/// answer.json?["privilege"]?.string   // "alice"
/// ```
struct ConsoleAPI: Sendable {
    /// The API's routes (built before the console's own were added: the console never
    /// calls itself).
    let responder: RouterResponder<GatewayContext>

    /// The largest answer the console reads whole (a file shown on a page); larger ones
    /// are refused with a 413 page. Downloads stream and are not bounded by this.
    static let maxAnswerBytes = 16 << 20

    /// Sends a request and returns the response as the API made it (status, headers,
    /// body not yet read).
    func respond(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], token: String?, label: String? = nil,
        headers extra: HTTPFields = [:], body: RequestBody = RequestBody(buffer: ByteBuffer()), context: GatewayContext
    ) async -> Response {
        var target = path
        if !query.isEmpty {
            target += "?" + query.map { PathEncoding.segment($0.0) + "=" + PathEncoding.segment($0.1) }.joined(separator: "&")
        }
        var head = HTTPRequest(method: method, scheme: nil, authority: nil, path: target)
        if let token { head.headerFields[.authorization] = "Bearer \(token)" }
        if let label { head.headerFields[.faastenLabel] = label }
        for field in extra { head.headerFields.append(field) }
        // Its own answer, released on its own (the page it ends up on is not).
        var context = context
        context.release = ResponseRelease()
        do {
            return try await responder.respond(to: Request(head: head, body: body), context: context)
        } catch {
            // The router's error middleware answers every error; this is only reached if
            // that middleware itself failed.
            return Response(status: .internalServerError)
        }
    }

    /// Sends a request and reads the whole answer.
    func send(
        _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [], token: String?, label: String? = nil,
        json: JSONValue? = nil, bytes: [UInt8]? = nil, contentType: String? = nil, context: GatewayContext
    ) async -> APIAnswer {
        var headers: HTTPFields = [:]
        var buffer = ByteBuffer()
        if let json {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: json.bytes)
        } else if let bytes {
            headers[.contentType] = contentType ?? "application/octet-stream"
            buffer = ByteBuffer(bytes: bytes)
        }
        let response = await respond(
            method, path, query: query, token: token, label: label, headers: headers, body: RequestBody(buffer: buffer), context: context)
        return await APIAnswer(response)
    }
}

/// An API response read whole: status, headers and body, with the JSON and the error a
/// person reads (fstn's words: the reason, the rule and labels, and what to do next).
struct APIAnswer: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: [UInt8]

    init(status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    init(_ response: Response) async {
        let collector = BodyCollector(limit: ConsoleAPI.maxAnswerBytes)
        do {
            try await response.body.write(collector)
        } catch {
            self.init(
                status: .contentTooLarge, headers: [.contentType: "application/json"],
                body: Array(#"{"error":"too_large","reason":"the answer is too large to show on a page: download it"}"#.utf8))
            return
        }
        self.init(status: response.status, headers: response.headers, body: collector.bytes)
    }

    var isSuccess: Bool { (200..<300).contains(status.code) }
    var json: JSONValue? { try? JSONValue(decoding: body) }
    var text: String? { String(validating: body, as: UTF8.self) }
    /// `X-Faasten-End-Label`: the label the request's context ended at.
    var endLabel: String? { headers[.faastenEndLabel] }
    /// `X-Faasten-Invocation`: the invocation a request started.
    var invocation: String? { headers[.faastenInvocation] }

    /// The error as fstn tells it: `advice` replaces the next step for a given error code
    /// (as fstn's commands do, e.g. for an unknown invocation id).
    func problem(user: String?, advice: [String: String] = [:]) -> ConsoleProblem {
        var nioHeaders = HTTPHeaders()
        for field in headers { nioHeaders.add(name: field.name.rawName, value: field.value) }
        let request = APIRequest(.GET, "/", advice: advice)
        let error = ErrorAdvice.error(
            for: APIResponse(status: Int(status.code), headers: nioHeaders, body: body), request: request, user: user)
        return ConsoleProblem(status: Int(status.code), reason: error.reason, details: error.details, next: error.next)
    }
}

/// What went wrong, for a page: the reason, details (rule, labels) and what to do next.
struct ConsoleProblem: Sendable {
    var status: Int
    var reason: String
    var details: [String]
    var next: String?

    init(status: Int, reason: String, details: [String] = [], next: String? = nil) {
        self.status = status
        self.reason = reason
        self.details = details
        self.next = next
    }
}

/// Collects a response body, up to a limit.
private final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    private(set) var bytes: [UInt8] = []
    let limit: Int
    struct TooLarge: Error {}

    init(limit: Int) { self.limit = limit }

    func write(_ buffer: ByteBuffer) async throws {
        guard bytes.count + buffer.readableBytes <= limit else { throw TooLarge() }
        bytes.append(contentsOf: buffer.readableBytesView)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
