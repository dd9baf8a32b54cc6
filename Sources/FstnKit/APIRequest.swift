import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import JSONValues

/// One request to the gateway, described as data so that it can be sent again after a
/// token refresh (its body is made anew for each attempt).
///
/// ```swift
/// let request = APIRequest(.GET, fs: "~:docs")     // GET /v1/fs/~%3Adocs
/// ```
public struct APIRequest: Sendable {
    /// A request body.
    public enum Body: Sendable {
        case none
        case json(JSONValue)
        /// Bytes in memory (small: a file for `put`, a payload for `invoke`).
        case bytes([UInt8], contentType: String)
        /// A file or stdin, streamed in chunks (never read whole into memory).
        case stream(FileChunks, contentType: String)
    }

    public var method: HTTPMethod
    /// The URL path, already percent-encoded (see ``PathEncoding``).
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    public var body: Body
    /// Whether the saved session's token is sent.
    public var authenticated: Bool
    /// How long the whole exchange may take.
    public var timeout: TimeAmount
    /// What to tell the user to do next, by the server's error code, instead of the default.
    public var advice: [String: String]

    /// An ordinary request's time limit: long enough for a synchronous invocation.
    public static let defaultTimeout = TimeAmount.minutes(15)
    /// A blob transfer's time limit: blobs may be large and links slow.
    public static let transferTimeout = TimeAmount.hours(24)

    public init(
        _ method: HTTPMethod, _ path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: Body = .none, authenticated: Bool = true,
        timeout: TimeAmount = defaultTimeout, advice: [String: String] = [:]
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.authenticated = authenticated
        self.timeout = timeout
        self.advice = advice
    }

    /// A request on the FS object at `fsPath` (`/v1/fs/{path}`, plus `suffix` such as `/link`).
    public init(_ method: HTTPMethod, fs fsPath: String, suffix: String = "", body: Body = .none) {
        self.init(method, "/v1/fs/" + PathEncoding.segment(fsPath) + suffix, body: body)
    }

    /// Whether the body can be produced again for a retry (stdin cannot be re-read).
    public var isRepeatable: Bool {
        if case let .stream(chunks, _) = body { return chunks.isRepeatable }
        return true
    }

    /// The request's URL under `server`.
    public func url(server: String) -> String {
        guard !query.isEmpty else { return server + path }
        return server + path + "?" + query.map { PathEncoding.segment($0.name) + "=" + PathEncoding.segment($0.value) }
            .joined(separator: "&")
    }

    /// The AsyncHTTPClient request, with `token` as the bearer token if given.
    func httpRequest(server: String, token: String?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(server: server))
        request.method = method
        request.headers.add(name: "User-Agent", value: "fstn/\(FstnVersion.current)")
        request.headers.add(name: "Accept", value: "application/json, */*")
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if let token { request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)") }
        switch body {
        case .none:
            break
        case let .json(value):
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: value.text))
        case let .bytes(bytes, contentType):
            request.headers.replaceOrAdd(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: bytes))
        case let .stream(chunks, contentType):
            request.headers.replaceOrAdd(name: "Content-Type", value: contentType)
            request.body = .stream(chunks, length: chunks.size.map { .known($0) } ?? .unknown)
        }
        return request
    }
}

/// The version `fstn` reports (in `--version` and its User-Agent).
public enum FstnVersion {
    public static let current = "0.2.0"
}
