import ArgumentParser
import FileSystem
import Foundation
import Gateway
import Hummingbird
import Logging
import Metrics
import Prometheus
import Sandbox
import ServiceLifecycle
import Store
import Worker

#if canImport(Glibc)
    import Glibc
#endif

/// `faasten serve`: the gateway and a worker in one process, on one store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (gateway and worker in one process) on the embedded store.",
        discussion: """
            The first stdout line is 'faasten listening on http://HOST:PORT'. The data directory
            holds the SQLite store and blobs (unless --store names PostgreSQL), keys/ (the token
            signing keys, 0600) and admin-password (the admin account's first password, 0600).
            SIGTERM or SIGINT stops gracefully: running invocations finish, new ones get 503.
            See docs/api.md and docs/operations.md.
            """)

    @Option(help: "The data directory (default: $FAASTEN_DATA or ~/.local/share/faasten).") var data: String?
    @Option(help: "A store location instead of the data directory's SQLite: postgres://user@host:port/db.") var store: String?
    @Option(help: "HOST:PORT to listen on (port 0: any free port).") var listen: String = "127.0.0.1:8080"
    @Flag(help: "Create the users alice and bob and install the photo app (examples/photos).") var demo = false
    @Flag(help: "Run without cgroup limits if none can be created (development machines only).") var noLimits = false
    @Option(help: "Seconds an access token lives.") var tokenLifetime: Int = 3600
    @Option(help: "bcrypt cost for passwords (4-31).") var bcryptCost: Int = 12
    @Option(help: "Memory all sandboxes together may use (MiB).") var memory: Int = 2048
    @Option(help: "Largest blob upload, in MiB.") var maxBlob: Int = 1024
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw CommandError("--listen takes HOST:PORT, e.g. 127.0.0.1:8080, not \(listen)")
        }
        guard (4...31).contains(bcryptCost) else { throw CommandError("--bcrypt-cost must be from 4 to 31") }
        guard tokenLifetime >= 60 else { throw CommandError("--token-lifetime must be at least 60 seconds") }
        guard let level = Logger.Level(rawValue: logLevel) else { throw CommandError("--log-level: unknown level \(logLevel)") }
        let dataDirectory = (FSOptions.dataDirectory(data) as NSString).expandingTildeInPath
        try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "faasten")

        let opened = try await FSOptions.open(try store.map { try StoreLocation($0) } ?? .directory(dataDirectory))
        let fileSystem = FileSystem(store: opened)
        do {
            _ = try await fileSystem.bootstrap()
        } catch {
            throw CommandError("cannot initialize the file system: \(error)")
        }
        let audit = AuditLog(store: opened)
        var workerConfiguration = WorkerConfiguration()
        workerConfiguration.memoryBudgetMB = memory
        workerConfiguration.audit = audit
        let worker: Worker
        let keys: SigningKeys
        do {
            worker = try Worker.bubblewrap(fileSystem: fileSystem, configuration: workerConfiguration, requireLimits: !noLimits)
            keys = try await SigningKeys(directory: dataDirectory + "/keys")
        } catch {
            throw CommandError("\(error)")
        }
        var configuration = GatewayConfiguration()
        configuration.host = String(listen[..<colon])
        configuration.port = port
        configuration.tokenLifetime = .seconds(tokenLifetime)
        configuration.bcryptCost = UInt8(bcryptCost)
        guard maxBlob > 0 else { throw CommandError("--max-blob must be positive") }
        configuration.maxBlobBytes = Int64(maxBlob) << 20
        let gateway = Gateway(worker: worker, keys: keys, audit: audit, configuration: configuration, metrics: registry, logger: logger)

        if let password = try await gateway.ensureAdmin() {
            let path = dataDirectory + "/admin-password"
            FileManager.default.createFile(atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
            logger.notice("created the account \(configuration.adminName); its password is in \(path)")
        }
        if demo {
            let examples = URL(fileURLWithPath: try GuestRuntime.runtimesDirectory()).deletingLastPathComponent().appendingPathComponent("examples").path
            for note in try await gateway.installDemo(examples: examples) { logger.notice("demo: \(note)") }
        }
        await worker.warmUp()

        let host = configuration.host
        let application = gateway.application { port in
            FileDescriptorOutput.standardOutput.writeLine("faasten listening on http://\(host):\(port)")
        }
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: application), .init(service: TriggerScheduler(triggers: gateway.triggers)),
                    .init(service: Drainer(gateway: gateway)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch {
            logger.error("the server stopped: \(error)")
        }
        await worker.shutdown()
        await audit.flush()
        try? await opened.close()
    }
}

/// Stops new invocations as soon as a graceful shutdown begins, while the HTTP server
/// lets the requests in flight finish.
struct Drainer: ServiceLifecycle.Service {
    let gateway: Gateway

    func run() async throws {
        try? await gracefulShutdown()
        gateway.drain()
    }
}
