import ArgumentParser
import Cluster
import FileSystem
import Foundation
import Gateway
import Logging
import Store
import Worker

/// `faasten gateway`: the HTTP API of a cluster, queueing invocations in PostgreSQL.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve the HTTP API of a cluster: invocations go through the durable queue in PostgreSQL.",
        discussion: """
            Run any number of gateways and workers (faasten worker) on one PostgreSQL database;
            gateways keep no state of their own: accounts, token signing keys, the file system,
            blobs and the queue are all in the database. The first stdout line is
            'faasten listening on http://HOST:PORT'. SIGTERM or SIGINT stops gracefully.
            See docs/operations.md.
            """)

    @OptionGroup var cluster: ClusterStoreOptions
    @OptionGroup var http: HTTPOptions
    @Option(help: "Where the admin account's first password is written (default: $FAASTEN_DATA or ~/.local/share/faasten).")
    var data: String?
    @Option(help: "Times an invocation may be claimed before a lost worker fails it.") var maxAttempts: Int = 3
    @Option(help: "Seconds a synchronous caller waits beyond the function's time limit for a worker.") var queueWait: Double = 60

    func run() async throws {
        let configuration = try http.configuration()
        guard (1...100).contains(maxAttempts) else { throw CommandError("--max-attempts must be from 1 to 100") }
        guard queueWait >= 0 else { throw CommandError("--queue-wait must not be negative") }
        let registry = try ServerProcess.bootstrap(logLevel: cluster.logLevel)
        let logger = Logger(label: "faasten")
        let store = try await cluster.open()
        let audit = try AuditLog(store: store)
        let keyRing = try await cluster.keyRing(store, audit: audit)
        let fileSystem = try await ServerProcess.fileSystem(on: store, keys: keyRing)
        var clusterConfiguration = ClusterConfiguration()
        clusterConfiguration.leaseSeconds = cluster.lease
        clusterConfiguration.maxAttempts = maxAttempts
        clusterConfiguration.queueWaitSeconds = queueWait
        let dispatcher = ClusterDispatcher(fileSystem: fileSystem, queue: try PostgresQueue(store: store, keys: keyRing), configuration: clusterConfiguration)
        dispatcher.start()
        let keys: SigningKeys
        do {
            keys = try await SigningKeys(store: store, sealedWith: keyRing)
        } catch {
            throw CommandError("cannot load the token signing keys: \(error)")
        }
        let gateway = try Gateway(dispatcher: dispatcher, keys: keys, audit: audit, configuration: configuration, metrics: registry, logger: logger)
        try await ServerProcess.ensureAdmin(gateway, directory: (FSOptions.dataDirectory(data) as NSString).expandingTildeInPath, logger: logger)
        await ServerProcess.serve(gateway, logger: logger)
        dispatcher.stop()
        await audit.flush()
        try? await store.close()
        logger.notice("stopped")
    }
}
