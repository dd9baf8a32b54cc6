import AsyncHTTPClient
import Foundation
import JSONValues
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The gateway at one server, acting as one saved user (or anonymously).
///
/// It sends the saved bearer token and keeps it fresh: an access token that has expired
/// (or gets a 401) is refreshed once with the saved refresh token, the new session is
/// saved, and the request is sent again.
///
/// ```swift
/// let connection = try Connection(server: "http://127.0.0.1:8080", user: nil, configuration: configuration, client: client)
/// let object = try await connection.json(APIRequest(.GET, fs: "~"))
/// ```
public actor Connection {
    /// A token this close to its expiry is refreshed before use, so it cannot expire in flight.
    public static let refreshMargin = 30.0
    /// The most of a body ``send(_:)`` holds in memory; larger ones are streamed by the caller.
    public static let bodyLimit = 256 << 20

    public nonisolated let server: String
    public nonisolated let configuration: Configuration
    /// The saved user this connection acts as; `nil` for anonymous.
    public private(set) var user: String?
    /// Whether `--user` named the user (then a missing session is an error, not anonymity).
    private let userIsExplicit: Bool
    private var session: SavedSession?
    private var refreshed = false
    private let client: HTTPClient

    public init(server: String, user: String?, configuration: Configuration, client: HTTPClient) throws(FstnError) {
        self.server = server
        self.configuration = configuration
        self.client = client
        let credentials = try Credentials.load(from: configuration.credentialsFile)
        userIsExplicit = user != nil
        self.user = user ?? credentials.defaultUser(server: server)
        session = self.user.flatMap { credentials.session(server: server, user: $0) }
    }

    /// The saved session in use, if any.
    public var currentSession: SavedSession? { session }

    /// The session, or an error telling the user to log in (for commands that need one).
    public func requireSession() throws(FstnError) -> SavedSession {
        if let session { return session }
        if let user, userIsExplicit {
            throw FstnError("no saved session for \(user) at \(server)", next: "run `fstn login \(user)`")
        }
        throw FstnError("not logged in at \(server)", next: "run `fstn login NAME` (or `fstn register NAME` first)")
    }

    // MARK: Sending

    /// Sends `request` and returns the response with its whole body, whatever its status.
    public func send(_ request: APIRequest) async throws -> APIResponse {
        let response = try await response(for: request)
        return try await collect(response, request: request)
    }

    /// Sends `request` and returns its response if it is 2xx; throws the server's error otherwise.
    @discardableResult
    public func expect(_ request: APIRequest) async throws -> APIResponse {
        let response = try await send(request)
        guard response.isSuccess else { throw error(for: response, request: request) }
        return response
    }

    /// Sends `request` and decodes its 2xx JSON body.
    public func json(_ request: APIRequest) async throws -> JSONValue {
        try await expect(request).json()
    }

    /// The error for a non-2xx response.
    public func error(for response: APIResponse, request: APIRequest) -> FstnError {
        var error = ErrorAdvice.error(for: response, request: request, user: user)
        if response.status == 401, let session, session.refreshToken == nil, let user {
            // A delegated token cannot be refreshed or logged in to: it is minted again.
            error.next = "the token saved as \(user) has no refresh token: mint a new one with `fstn delegate PRIVILEGE --save-as \(user)`"
        }
        return error
    }

    /// Sends `request` and returns the response with its body still streaming, for large
    /// downloads. Authentication is handled as in ``send(_:)``.
    public func response(for request: APIRequest) async throws -> HTTPClientResponse {
        let token = request.authenticated ? try await usableToken() : nil
        let response = try await execute(request, token: token)
        guard response.status == .unauthorized, token != nil, !refreshed, request.isRepeatable,
            session?.canRefresh() == true
        else { return response }
        // Revoked or expired early: one refresh, then the same request again.
        _ = try? await response.body.collect(upTo: 1 << 20)
        try await refresh()
        return try await execute(request, token: session?.token)
    }

    /// The whole body of a response (up to ``bodyLimit``).
    public func collect(_ response: HTTPClientResponse, request: APIRequest) async throws -> APIResponse {
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.bodyLimit)
        } catch let error as NIOTooManyBytesError {
            throw FstnError("the answer is over \(Self.bodyLimit >> 20) MiB: \(error)", next: "use `fstn blob get` for large data")
        } catch {
            throw ErrorAdvice.unreachable(server: server, error: error)
        }
        return APIResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
    }

    private func execute(_ request: APIRequest, token: String?) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request.httpRequest(server: server, token: token), timeout: request.timeout)
        } catch let error as FstnError {
            throw error  // reading the body's file failed
        } catch {
            throw ErrorAdvice.unreachable(server: server, error: error)
        }
    }

    /// Refreshes the saved session now if its access token has expired (and it can be).
    public func refreshIfExpired() async throws {
        _ = try await usableToken()
    }

    /// The token to send: the saved one, refreshed first if it has expired and can be.
    private func usableToken() async throws -> String? {
        guard let session else {
            if let user, userIsExplicit { throw FstnError("no saved session for \(user) at \(server)", next: "run `fstn login \(user)`") }
            return nil
        }
        if session.isExpired(margin: Self.refreshMargin), session.canRefresh(), !refreshed {
            try await refresh()
        }
        return self.session?.token
    }

    // MARK: Sessions

    /// Exchanges the refresh token for a new session and saves it (`POST /v1/refresh`).
    ///
    /// Refresh tokens are single-use, so this holds the credentials lock, and if another
    /// `fstn` already refreshed this user's session, uses the one it saved.
    private func refresh() async throws {
        guard let user, let current = session else { return }
        refreshed = true
        let file = configuration.credentialsFile
        let (server, client) = (self.server, self.client)
        let renewed: SavedSession = try await Credentials.withLock(on: file) {
            var credentials = try Credentials.load(from: file)
            let saved = credentials.session(server: server, user: user)
            if let saved, saved.token != current.token, !saved.isExpired(margin: Self.refreshMargin) { return saved }
            let latest = saved ?? current
            guard let refreshToken = latest.refreshToken else { return latest }
            let request = APIRequest(.POST, "/v1/refresh", body: .json(["refresh_token": .string(refreshToken)]), authenticated: false)
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request.httpRequest(server: server, token: nil), timeout: request.timeout)
            } catch {
                throw ErrorAdvice.unreachable(server: server, error: error)
            }
            let body = try await Array(buffer: response.body.collect(upTo: 1 << 20))
            let answer = APIResponse(status: Int(response.status.code), headers: response.headers, body: body)
            guard answer.isSuccess else {
                var error = ErrorAdvice.error(for: answer, request: request, user: user)
                if answer.status == 401 {
                    error.reason = "the session of \(user) at \(server) has ended: \(error.reason)"
                    error.next = "run `fstn login \(user)`"
                }
                throw error
            }
            let fresh = try SavedSession(session: answer.json(), loggedInAt: latest.loggedInAt)
            credentials.save(fresh, server: server, user: user)
            try credentials.write(to: file)
            return fresh
        }
        session = renewed
    }

    /// Logs in (`POST /v1/login`) and saves the session as the default user of this server.
    @discardableResult
    public func login(name: String, password: String) async throws -> SavedSession {
        let request = APIRequest(
            .POST, "/v1/login", body: .json(["name": .string(name), "password": .string(password)]), authenticated: false,
            advice: ["unauthorized": "check the name and password (or create the account with `fstn register \(name)`)"])
        let fresh = try SavedSession(session: try await json(request), loggedInAt: Date().timeIntervalSince1970)
        try await save(fresh, as: name)
        user = name
        session = fresh
        return fresh
    }

    /// Saves a session under `name` for this server.
    public func save(_ saved: SavedSession, as name: String) async throws {
        let file = configuration.credentialsFile
        let server = self.server
        try await Credentials.withLock(on: file) {
            var credentials = try Credentials.load(from: file)
            credentials.save(saved, server: server, user: name)
            try credentials.write(to: file)
        }
    }

    /// Forgets the saved session of the current user; returns it.
    @discardableResult
    public func forget() async throws -> SavedSession? {
        guard let user else { return nil }
        let file = configuration.credentialsFile
        let server = self.server
        let removed = try await Credentials.withLock(on: file) {
            var credentials = try Credentials.load(from: file)
            let removed = credentials.remove(server: server, user: user)
            if removed != nil { try credentials.write(to: file) }
            return removed
        }
        session = nil
        return removed
    }
}

extension SavedSession {
    /// The saved form of a *Session* object (`/v1/login`, `/v1/refresh`).
    public init(session json: JSONValue, loggedInAt: Double?) throws(FstnError) {
        guard let token = json["token"]?.string else {
            throw FstnError("the server's session has no token: \(json.text)", next: "check that --server names a Faasten gateway")
        }
        self.init(
            token: token, refreshToken: json["refresh_token"]?.string, expiresAt: json["expires_at"]?.number,
            refreshExpiresAt: json["refresh_expires_at"]?.number, principal: json["principal"]?.string, loggedInAt: loggedInAt)
    }
}
