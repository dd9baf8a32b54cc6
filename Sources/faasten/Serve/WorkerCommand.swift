import ArgumentParser
import Cluster
import FileSystem
import Foundation
import Gateway
import Logging
import ServiceLifecycle
import Store
import UnixSignals
import Worker

/// `faasten worker`: runs invocations from a cluster's queue in local sandboxes.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run invocations from a cluster's durable queue in bubblewrap sandboxes.",
        discussion: """
            Listens on nothing: it connects to PostgreSQL, registers its capacity, and claims
            queued invocations (woken by LISTEN/NOTIFY), preferring those it has a warm sandbox
            for. SIGTERM or SIGINT stops claiming, lets running invocations finish and gives the
            rest back to the queue. Function images are cached under --cache by their hash.
            See docs/operations.md.
            """)

    @OptionGroup var cluster: ClusterStoreOptions
    @Option(help: "Memory all sandboxes together may use (MiB).") var memory: Int = 2048
    @Option(help: "Invocations run at once (default: memory / 128, from 1 to 64).") var slots: Int?
    @Option(help: "Where unpacked function images and sandbox slots are kept (default: a temporary directory).") var cache: String?
    @Flag(help: "Run without cgroup limits if none can be created (development machines only).") var noLimits = false

    func run() async throws {
        guard memory >= 64 else { throw CommandError("--memory must be at least 64 (MiB)") }
        let slots = slots ?? min(64, max(1, memory / 128))
        guard (1...1024).contains(slots) else { throw CommandError("--slots must be from 1 to 1024") }
        _ = try ServerProcess.bootstrap(logLevel: cluster.logLevel)
        let logger = Logger(label: "faasten")
        let store = try await cluster.open()
        let audit = try AuditLog(store: store)
        let keyRing = try await cluster.keyRing(store, audit: audit)
        let fileSystem = try await ServerProcess.fileSystem(on: store, keys: keyRing)
        var workerConfiguration = EngineConfiguration()
        workerConfiguration.memoryBudgetMB = memory
        workerConfiguration.audit = audit
        let worker: Engine
        do {
            worker = try Engine.bubblewrap(
                fileSystem: fileSystem, configuration: workerConfiguration, requireLimits: !noLimits, stagingRoot: cache)
        } catch {
            throw CommandError("\(error)")
        }
        var configuration = ClusterConfiguration()
        configuration.leaseSeconds = cluster.lease
        configuration.slots = slots
        let member = ClusterWorker(engine: worker, queue: try PostgresQueue(store: store, keys: keyRing), configuration: configuration)
        FileDescriptorOutput.standardOutput.writeLine("faasten worker \(member.id) serving the queue at \(store.location)")
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: member)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("the worker stopped: \(error)")
        }
        await audit.flush()
        try? await store.close()
    }
}
