import NIOHTTP1
import JSONValues

/// A gateway response with its whole body (for JSON and small bodies).
public struct APIResponse: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body as JSON; a clear error if the server sent something else.
    public func json() throws(FstnError) -> JSONValue {
        do {
            return try JSONValue(decoding: body)
        } catch {
            throw FstnError(
                "the server's answer (HTTP \(status)) is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))",
                next: "check that --server names a Faasten gateway")
        }
    }

    /// `X-Faasten-End-Label`: the label the request's context ended at.
    public var endLabel: String? { headers.first(name: "X-Faasten-End-Label") }

    /// `X-Faasten-Invocation`: the id of the invocation a request started.
    public var invocation: String? { headers.first(name: "X-Faasten-Invocation") }

    /// Whether the body is JSON by its content type.
    public var isJSON: Bool {
        headers.first(name: "Content-Type")?.lowercased().hasPrefix("application/json") ?? false
    }
}
