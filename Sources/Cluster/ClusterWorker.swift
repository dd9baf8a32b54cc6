import FileSystem
import Keys
import Foundation
import Labels
import Logging
import Monitor
import ServiceLifecycle
import Store
import Worker

/// A worker process's side of a cluster: registers its capacity, claims queued
/// invocations when woken (or every `pollSeconds`), runs them on its local ``Engine``,
/// renews its leases with a heartbeat, and writes each result only if its claim still
/// holds.
///
/// ```swift
/// let member = ClusterWorker(engine: engine, queue: queue, configuration: configuration)
/// try await member.run()   // until a graceful shutdown (SIGTERM) or cancellation
/// ```
///
/// Its functions' asynchronous calls go through the queue too, so a lost worker loses
/// none of them.
public final class ClusterWorker: ServiceLifecycle.Service, Sendable {
    /// This worker's id in the registry and in the records it writes.
    public let id: String
    /// The engine running the claimed invocations.
    public let engine: Engine
    public let queue: PostgresQueue
    public let configuration: ClusterConfiguration
    private let wakeups = Wakeups()
    private let running = RunningClaims()
    private let logger: Logger
    private static let work = "work"

    public init(engine: Engine, queue: PostgresQueue, configuration: ClusterConfiguration, id: String? = nil) {
        self.id = id ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        self.engine = engine
        self.queue = queue
        self.configuration = configuration
        var logger = Logger(label: "faasten.cluster.worker")
        logger[metadataKey: "worker"] = .string(self.id)
        self.logger = logger
        engine.sendAsynchronousCalls(to: ClusterDispatcher(fileSystem: engine.fileSystem, queue: queue, configuration: configuration, limits: engine.configuration))
    }

    /// Serves the queue until a graceful shutdown or cancellation; then stops claiming,
    /// lets running invocations finish (up to `shutdownGraceSeconds`), gives the rest
    /// back and deregisters.
    public func run() async throws {
        try await queue.register(
            id: id, host: ProcessInfo.processInfo.hostName, pid: Int(getpid()), memoryMB: engine.configuration.memoryBudgetMB,
            slots: configuration.slots)
        logger.notice("registered with \(configuration.slots) slots and \(engine.configuration.memoryBudgetMB) MiB")
        wakeups.expect(Self.work)
        let wakeups = wakeups
        let listener = queue.listen(
            PostgresQueue.workChannel, listening: { wakeups.notify(Self.work) }, handler: { _ in wakeups.notify(Self.work) })
        let heartbeat = Task { await self.beat() }
        await engine.warmUp()
        await withGracefulShutdownHandler {
            await self.claimLoop()
        } onGracefulShutdown: {
            self.running.stopping = true
            wakeups.notify(Self.work)
        }
        running.stopping = true
        listener.cancel()
        await drain()
        heartbeat.cancel()
        do {
            try await queue.deregister(id)
        } catch {
            logger.warning("cannot deregister: \(error)")
        }
        await engine.shutdown(grace: .seconds(5))
        logger.notice("stopped")
    }

    /// Stops claiming (as a graceful shutdown does).
    public func stop() {
        running.stopping = true
        wakeups.notify(Self.work)
    }

    private func claimLoop() async {
        var failures = 0
        while !running.stopping && !Task.isCancelled {
            let free = configuration.slots - running.count
            var claimed = 0
            if free > 0 {
                do {
                    let claims = try await queue.claim(
                        worker: id, limit: free, warm: await engine.warmAffinities(), running: running.count,
                        lease: configuration.leaseSeconds, preferenceWindow: configuration.preferenceWindow,
                        liveWithin: configuration.leaseSeconds)
                    failures = 0
                    claimed = claims.count
                    for claim in claims {
                        running.add(claim.id)
                        Task {
                            await self.process(claim)
                            self.running.remove(claim.id)
                            self.wakeups.notify(Self.work)
                        }
                    }
                } catch {
                    failures += 1
                    logger.error("cannot claim invocations (retrying): \(error)")
                    try? await Task.sleep(for: .milliseconds(min(100 << min(failures, 6), 5000)))
                    continue
                }
            }
            // All free slots filled: there may be more to claim once one frees.
            if claimed > 0 && claimed == free { continue }
            await wakeups.wait(Self.work, timeout: .milliseconds(Int64(configuration.pollSeconds * 1000)))
        }
    }

    /// Runs one claimed invocation and writes its result if the claim still holds.
    private func process(_ claim: PostgresQueue.Claim) async {
        var row: InvocationRecord
        do {
            let opened = try queue.openRequest(claim)
            let (request, submittedAt) = try QueuedInvocation.decode(opened, blobs: engine.fileSystem.blobs)
            // The record is how the result reaches a synchronous caller: keep it whole (the
            // monitor bounds a response).
            row = await engine.perform(request, id: claim.id, submittedAt: submittedAt, keepingResultsUpTo: .max).1
        } catch {
            // Changed in the database (it does not open), written by a newer gateway, or its
            // blobs are gone: fail it with the reason, never run it.
            logger.error("cannot open queued invocation \(claim.id): \(error)")
            guard var stored = try? await engine.invocation(claim.id) else { return }
            let label = (try? Label(parsing: stored.startLabel)) ?? .top
            let code = (error as? KeyError).map { if case .tampered = $0 { "tampered" } else { "keys" } } ?? "bad-request"
            stored.finish(
                InvocationResult(id: claim.id, outcome: .failed(.reported(code: code, reason: "\(error)")), label: label),
                keepingResultsUpTo: 0)
            row = stored
        }
        for attempt in 1...5 {
            do {
                if try await !queue.complete(row, worker: id, attempt: claim.attempt) {
                    logger.warning("invocation \(claim.id) was taken over by another worker after this one's lease ran out; its result here is dropped")
                }
                return
            } catch {
                logger.error("cannot record invocation \(claim.id) (try \(attempt) of 5): \(error)")
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        // The lease runs out and another worker runs it again.
    }

    /// Renews the leases and the registration; fails invocations whose workers were
    /// lost too often.
    private func beat() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(configuration.heartbeatSeconds * 1000)))
            guard !Task.isCancelled else { return }
            do {
                let held = try await queue.heartbeat(
                    worker: id, lease: configuration.leaseSeconds, running: running.count, warm: await engine.warmAffinities())
                for lost in running.ids.subtracting(held) {
                    logger.warning("lost the lease on invocation \(lost); another worker may run it")
                }
                let failed = try await queue.failAbandoned()
                if !failed.isEmpty { logger.warning("failed \(failed.count) invocations whose workers were lost on every attempt") }
            } catch {
                logger.error("heartbeat failed: \(error)")
            }
        }
    }

    /// Waits for running invocations (up to the grace period), then gives the rest back.
    private func drain() async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(configuration.shutdownGraceSeconds * 1000))
        while running.count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = Array(running.ids)
        guard !left.isEmpty else { return }
        do {
            try await queue.giveBack(left, worker: id)
            logger.notice("gave \(left.count) unfinished invocations back to the queue")
        } catch {
            logger.error("cannot give back \(left.count) invocations (their leases will run out): \(error)")
        }
    }
}

/// The invocations a worker is running, and whether it is stopping.
final class RunningClaims: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed: Set<String> = []
    private var isStopping = false

    var count: Int { lock.withLock { claimed.count } }
    var ids: Set<String> { lock.withLock { claimed } }
    func add(_ id: String) { _ = lock.withLock { claimed.insert(id) } }
    func remove(_ id: String) { _ = lock.withLock { claimed.remove(id) } }
    var stopping: Bool {
        get { lock.withLock { isStopping } }
        set { lock.withLock { isStopping = newValue } }
    }
}
