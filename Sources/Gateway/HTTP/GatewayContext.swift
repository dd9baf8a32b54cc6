import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import JSONValues
import Labels
import NIOCore

/// The per-request context: Hummingbird's, plus the client's address (for the
/// login rate limit) and what the answer releases (``ReleaseMiddleware``).
public struct GatewayContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// What the answer shows and to whom (shared by the context's copies; a request
    /// the console makes on a person's behalf gets its own, see ``ConsoleAPI``).
    public internal(set) var release = ResponseRelease()

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}

extension HTTPField.Name {
    static let faastenLabel = Self("X-Faasten-Label")!
    static let faastenClearance = Self("X-Faasten-Clearance")!
    static let faastenEndLabel = Self("X-Faasten-End-Label")!
    static let faastenInvocation = Self("X-Faasten-Invocation")!
    static let prefer = Self("Prefer")!
    static let githubSignature = Self("X-Hub-Signature-256")!
    static let githubEvent = Self("X-GitHub-Event")!
    static let githubDelivery = Self("X-GitHub-Delivery")!
    static let faastenSignature = Self("X-Faasten-Signature")!
    static let faastenTimestamp = Self("X-Faasten-Timestamp")!
    static let faastenEvent = Self("X-Faasten-Event")!
    static let faastenDelivery = Self("X-Faasten-Delivery")!
}

extension Request {
    /// A path parameter, percent-decoded once (FS paths travel as one encoded segment).
    func pathParameter(_ name: String, _ context: GatewayContext) throws(APIError) -> String {
        guard let raw = context.parameters.get(name) else { throw .badRequest("the path has no \(name)") }
        guard let decoded = raw.removingPercentEncoding else { throw .badRequest("\(name) is not valid percent-encoding") }
        return decoded
    }

    /// A label header, parsed strictly: a malformed label is a 400, never ignored.
    func label(_ name: HTTPField.Name) throws(APIError) -> Label? {
        guard let text = headers[name] else { return nil }
        do {
            return try Label(parsing: text)
        } catch {
            throw .badRequest("\(name): \(error)")
        }
    }

    /// The body, up to `limit` bytes.
    mutating func bytes(upTo limit: Int) async throws(APIError) -> [UInt8] {
        do {
            let buffer = try await collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw .tooLarge("the body is larger than \(limit) bytes")
        }
    }

    /// A JSON object body, checked for its content type and size.
    mutating func jsonFields(upTo limit: Int) async throws(APIError) -> JSONFields {
        try requireJSON()
        return try JSONFields(try JSONValue(parsing: try await bytes(upTo: limit)))
    }

    /// A body's content type, if given, must be JSON: 415 otherwise.
    func requireJSON() throws(APIError) {
        if let type = headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "the body must be application/json, not \(type)")
        }
    }
}
