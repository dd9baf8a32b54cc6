import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Labels
import JSONValues

/// An error answered as JSON `{error, reason, …}` with its status. Every refusal the
/// gateway makes is one of these; nothing else reaches the client as an error body.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let reason: String
    public var extra: [String: JSONValue] = [:]
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ reason: String, extra: [String: JSONValue] = [:]) {
        self.status = status
        self.code = code
        self.reason = reason
        self.extra = extra
    }

    public var description: String { "\(code): \(reason)" }

    static func badRequest(_ reason: String) -> APIError { APIError(.badRequest, "bad_request", reason) }
    static func unauthorized(_ reason: String) -> APIError {
        var error = APIError(.unauthorized, "unauthorized", reason)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }
    static func forbidden(_ reason: String) -> APIError { APIError(.forbidden, "forbidden", reason) }
    static func notFound(_ reason: String) -> APIError { APIError(.notFound, "not_found", reason) }
    static func conflict(_ reason: String) -> APIError { APIError(.conflict, "conflict", reason) }
    static func tooLarge(_ reason: String) -> APIError { APIError(.contentTooLarge, "too_large", reason) }
    static func unavailable(_ reason: String, retryAfter: Int = 1) -> APIError {
        var error = APIError(.serviceUnavailable, "unavailable", reason)
        error.headers[.retryAfter] = String(retryAfter)
        return error
    }
    static func rateLimited(_ reason: String, retryAfter: Int) -> APIError {
        var error = APIError(.tooManyRequests, "rate_limited", reason)
        error.headers[.retryAfter] = String(retryAfter)
        return error
    }

    /// A flow rule refused: 403 with the rule and the labels that refused.
    static func refused(_ error: FSError, labels: [String: String] = [:]) -> APIError {
        var extra: [String: JSONValue] = ["rule": error.rule.map(JSONValue.string) ?? .null]
        if !labels.isEmpty { extra["labels"] = .object(labels.mapValues(JSONValue.string)) }
        return APIError(.forbidden, "refused", "\(error)", extra: extra)
    }

    /// An invocation refused before it ran: a flow rule's refusal (403) names the rule,
    /// the label the invoker's context had reached and the privilege; any other error by
    /// kind. The end label says what the refusal reveals.
    static func refusedInvocation(_ error: FSError, label: Label, privilege: Privilege) -> APIError {
        var api = error.rule != nil ? refused(error, labels: ["end": label.description, "privilege": privilege.description]) : from(error)
        api.headers[.faastenEndLabel] = label.description
        return api
    }

    /// A file-system error: refusals are 403; the rest by kind.
    static func from(_ error: FSError) -> APIError {
        if error.rule != nil { return refused(error) }
        switch error {
        case .notFound, .blobNotFound: return notFound("\(error)")
        case .nameExists: return conflict("\(error)")
        case .unavailable: return unavailable("\(error)")
        case .storage, .corrupt, .notInitialized: return APIError(.internalServerError, "internal", "\(error)")
        // Not the caller's fault, and nothing of the value is released: said as such.
        case .tampered: return APIError(.internalServerError, "tampered", "\(error)")
        default: return badRequest("\(error)")
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: JSONValue] = extra
        body["error"] = .string(code)
        body["reason"] = .string(reason)
        var response = JSONValue.object(body).response(status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}
