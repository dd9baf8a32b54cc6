import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Labels
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Store
import Worker

/// The HTTP API in front of a dispatcher (a worker in this process, or a cluster's
/// queue): accounts and tokens, the labeled file system, invocations, the audit log
/// and operations endpoints (see docs/api.md).
public final class Gateway: Sendable {
    /// Where invocations go.
    public let dispatcher: any Dispatcher
    public let fileSystem: FileSystem
    public let accounts: Accounts
    public let audit: AuditLog
    public let keys: SigningKeys
    public let triggers: Triggers
    public let configuration: GatewayConfiguration
    let metrics: PrometheusCollectorRegistry
    let logger: Logger
    private let state = DrainState()

    /// A gateway over `dispatcher` (whose workers should report to `audit`), signing
    /// with `keys`.
    public init(
        dispatcher: any Dispatcher, keys: SigningKeys, audit: AuditLog, configuration: GatewayConfiguration = GatewayConfiguration(),
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger = Logger(label: "faasten.gateway")
    ) throws {
        try dispatcher.fileSystem.store.prepare(GatewaySchema.schema)
        self.dispatcher = dispatcher
        fileSystem = dispatcher.fileSystem
        self.keys = keys
        self.audit = audit
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        accounts = Accounts(fileSystem: dispatcher.fileSystem, keys: keys, audit: audit, configuration: configuration)
        triggers = Triggers(fileSystem: dispatcher.fileSystem, dispatcher: dispatcher, audit: audit, logger: logger)
    }

    /// A gateway over an engine in this process (the embedded mode).
    public convenience init(
        engine: Engine, keys: SigningKeys, audit: AuditLog, configuration: GatewayConfiguration = GatewayConfiguration(),
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger = Logger(label: "faasten.gateway")
    ) throws {
        try self.init(dispatcher: engine, keys: keys, audit: audit, configuration: configuration, metrics: metrics, logger: logger)
    }

    /// Creates the administrator's account if it does not exist; returns its new
    /// password (`nil` if it existed).
    ///
    /// `save` keeps the new password before the account exists: if it throws, there is
    /// no account whose password nobody knows.
    public func ensureAdmin(savingPassword save: (String) throws -> Void = { _ in }) async throws -> String? {
        let name = configuration.adminName
        let existing = try await fileSystem.store.transaction(.read) { try $0.account(name) }
        guard existing == nil else { return nil }
        let password = Self.randomPassword()
        try save(password)
        _ = try await accounts.register(name: name, password: password, admin: true, allowReserved: true)
        return password
    }

    static func randomPassword() -> String {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })
    }

    /// Whether new invocations are refused (the server is stopping).
    public var draining: Bool { state.draining }

    /// Stop accepting invocations; those running finish.
    public func drain() { state.draining = true }

    /// Every route, as `METHOD /path` (for the test that keeps openapi.yaml in agreement).
    public var routes: [String] { state.routes }

    /// Registers a route and records it in ``routes``.
    func route(
        _ router: Router<GatewayContext>, _ method: HTTPRequest.Method, _ path: String,
        _ handler: @Sendable @escaping (Request, GatewayContext) async throws -> Response
    ) {
        state.record("\(method.rawValue) \(path)")
        router.on(RouterPath(path), method: method, use: handler)
    }

    /// The router with every route and middleware.
    public func router() -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: ReleaseMiddleware())
        addAccountRoutes(router)
        addFileSystemRoutes(router)
        addInvokeRoutes(router)
        addTriggerRoutes(router)
        addOperationRoutes(router)
        addConsoleRoutes(router)
        return router
    }

    /// The HTTP application; `onRunning` receives the port it listens on.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "faasten"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    // MARK: Helpers shared by the routes

    /// The context of a person's own request on the file system, blobs, links, triggers
    /// and accounts: it starts at `X-Faasten-Label` (start rule: the caller's privilege
    /// must imply its integrity), and its clearance is the highest label the caller may
    /// be shown (``ReleaseCheck/requestClearance(_:for:)``; `X-Faasten-Clearance` can
    /// only lower it), so a request the release rule would refuse is refused before it
    /// changes anything.
    func requestContext(_ request: Request, _ caller: Caller) throws(APIError) -> SecurityContext {
        let requested = try request.label(.faastenClearance)
        let clearance: Label
        do {
            clearance = try ReleaseCheck.requestClearance(requested, for: caller.privilege)
        } catch {
            throw .from(error)
        }
        return try startingContext(request, caller, clearance: clearance)
    }

    /// The context an invocation is resolved and started in: `X-Faasten-Label` under the
    /// start rule, `X-Faasten-Clearance` as given (default: no bound). Not capped: what
    /// an invocation ends at depends on its function, which runs under its gate's rules;
    /// its result passes the release rule when it is shown.
    /// `label` is the original API's form field, the same as the header (give one).
    func invocationContext(_ request: Request, _ caller: Caller, label field: Label? = nil) throws(APIError) -> SecurityContext {
        try startingContext(request, caller, clearance: try request.label(.faastenClearance) ?? .top, label: field)
    }

    private func startingContext(_ request: Request, _ caller: Caller, clearance: Label, label field: Label? = nil) throws(APIError)
        -> SecurityContext
    {
        let header = try request.label(.faastenLabel)
        if let header, let field, header != field {
            throw .badRequest("the label field \(field) and X-Faasten-Label \(header) disagree: give one")
        }
        let label = field ?? header ?? .public
        do {
            return try SecurityContext(starting: label, privilege: caller.privilege, clearance: clearance)
        } catch {
            if case .cannotStart = error {
                throw .refused(error, labels: ["start": label.description, "privilege": caller.privilege.description])
            }
            throw .badRequest("\(error)")
        }
    }

    func caller(_ request: Request) async throws(APIError) -> Caller {
        try await accounts.authenticate(request.headers[.authorization])
    }

    /// A path from a percent-encoded path parameter.
    func fsPath(_ request: Request, _ context: GatewayContext, _ name: String = "path") throws(APIError) -> FSPath {
        let text = try request.pathParameter(name, context)
        do {
            return try FSPath(parsing: text)
        } catch {
            throw .badRequest("\(error)")
        }
    }
}

/// Whether the server is stopping (set once), and the routes it registered.
final class DrainState: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var recorded: [String] = []
    var routes: [String] { lock.withLock { recorded } }
    func record(_ route: String) { lock.withLock { if !recorded.contains(route) { recorded.append(route) } } }
    var draining: Bool {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Turns every error into the API's JSON error body: ours as they are, Hummingbird's
/// (404 for an unknown route, 413, …) with our codes, anything else as a 500 that is
/// logged — malformed input must never get there.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let logger: Logger

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPResponseError {
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .contentTooLarge: code = "too_large"
            case .methodNotAllowed: code = "method_not_allowed"
            case .unsupportedMediaType: code = "unsupported_media_type"
            default: code = error.status.code < 500 ? "bad_request" : "internal"
            }
            let reason = error.status == .notFound ? "no such route: \(request.method) \(request.uri.path)" : "\(error.status.reasonPhrase)"
            response = try APIError(error.status, code, reason).response(from: request, context: context)
        } catch {
            logger.error("internal error on \(request.method) \(request.uri.path): \(error)")
            response = try APIError(.internalServerError, "internal", "an internal error; it was logged").response(from: request, context: context)
        }
        if response.headers[.faastenEndLabel] == nil {
            // Nothing labeled was touched: the request ended where it started.
            response.headers[.faastenEndLabel] = request.headers[.faastenLabel].flatMap { try? Label(parsing: $0).description } ?? Label.public.description
        }
        return response
    }
}
