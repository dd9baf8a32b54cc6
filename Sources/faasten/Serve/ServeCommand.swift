import ArgumentParser
import FileSystem
import Foundation
import Gateway
import Hummingbird
import Keys
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
    @OptionGroup var http: HTTPOptions
    @Flag(help: "Create the users alice and bob and install the photo app (examples/photos).") var demo = false
    @Flag(help: "Run without cgroup limits if none can be created (development machines only).") var noLimits = false
    @Option(help: "Memory all sandboxes together may use (MiB).") var memory: Int = 2048
    @Option(help: "Invocations accepted and waiting for a sandbox; beyond this, new ones get 503 with Retry-After.")
    var maxQueued: Int = EngineConfiguration().maxQueued
    @Option(help: "Of those, how many one invoker may have waiting (fairness between invokers).")
    var maxQueuedPerInvoker: Int = EngineConfiguration().maxQueuedPerInvoker
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Option(help: "The master key: a file, env:NAME or command:CMD (default: DATA/master-key, made 0600 at first start).")
    var masterKey: String?

    func run() async throws {
        let configuration = try http.configuration()
        let dataDirectory = (FSOptions.dataDirectory(data) as NSString).expandingTildeInPath
        let location = try store.map { try StoreLocation($0) } ?? .directory(dataDirectory)
        let keySource = try ServerProcess.masterKeySource(
            masterKey, dataDirectory: ServerProcess.masterKeyDirectory(for: location, dataDirectory: dataDirectory))
        try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let registry = try ServerProcess.bootstrap(logLevel: logLevel)
        let logger = Logger(label: "faasten")

        let opened = try await FSOptions.open(location)
        let audit = try AuditLog(store: opened)
        let keyRing = try await ServerProcess.keyRing(opened, keySource, audit: audit, keepingCurrent: true)
        let fileSystem = try await ServerProcess.fileSystem(on: opened, keys: keyRing)
        var workerConfiguration = EngineConfiguration()
        workerConfiguration.memoryBudgetMB = memory
        guard maxQueued >= 1, (1...maxQueued).contains(maxQueuedPerInvoker) else {
            throw CommandError("--max-queued must be positive and --max-queued-per-invoker from 1 to --max-queued")
        }
        workerConfiguration.maxQueued = maxQueued
        workerConfiguration.maxQueuedPerInvoker = maxQueuedPerInvoker
        workerConfiguration.audit = audit
        let worker: Engine
        let keys: SigningKeys
        do {
            worker = try Engine.bubblewrap(fileSystem: fileSystem, configuration: workerConfiguration, requireLimits: !noLimits)
            keys = try await SigningKeys(directory: dataDirectory + "/keys", sealedWith: keyRing)
        } catch {
            throw CommandError("\(error)")
        }
        let gateway = try Gateway(engine: worker, keys: keys, audit: audit, configuration: configuration, metrics: registry, logger: logger)
        try await ServerProcess.ensureAdmin(gateway, directory: dataDirectory, logger: logger)
        if demo {
            let examples = URL(fileURLWithPath: try GuestRuntime.runtimesDirectory()).deletingLastPathComponent().appendingPathComponent("examples").path
            for note in try await gateway.installDemo(examples: examples) { logger.notice("demo: \(note)") }
        }
        await worker.warmUp()
        await ServerProcess.serve(gateway, logger: logger)
        await worker.shutdown()
        await audit.flush()
        try? await opened.close()
        logger.notice("stopped")
    }
}
