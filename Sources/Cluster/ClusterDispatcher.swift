import FileSystem
import Foundation
import Labels
import Logging
import Store
import Worker

/// The gateway's side of a cluster: checks an invocation as the embedded worker would,
/// records and enqueues it in one transaction, and for a synchronous caller waits for
/// the notification that its record is final.
///
/// ```swift
/// let dispatcher = ClusterDispatcher(fileSystem: fs, queue: PostgresQueue(store: store, keys: fs.keys))
/// dispatcher.start()
/// let result = await dispatcher.invoke(request)   // run by whichever worker claims it
/// ```
///
/// The start rule, the resolution and the invoke rule are checked here, so that a
/// refusal is answered at once and changes nothing (neither queued nor recorded, as in
/// the embedded worker); the gate is queued as resolved, with the start label its
/// resolution lifted, and the worker checks the start and invoke rules again before it
/// runs it.
public final class ClusterDispatcher: Dispatcher {
    public let fileSystem: FileSystem
    public let queue: PostgresQueue
    public let configuration: ClusterConfiguration
    /// The limits the embedded worker would apply (the chain depth).
    let limits: EngineConfiguration
    let waiters = Wakeups()
    private let listening = ListenerState()
    private let logger = Logger(label: "faasten.cluster.dispatcher")

    public init(
        fileSystem: FileSystem, queue: PostgresQueue, configuration: ClusterConfiguration = ClusterConfiguration(),
        limits: EngineConfiguration = EngineConfiguration()
    ) {
        self.fileSystem = fileSystem
        self.queue = queue
        self.configuration = configuration
        self.limits = limits
    }

    /// Starts listening for finished invocations (before the first synchronous call).
    public func start() {
        let waiters = waiters
        let listening = listening
        listening.set(
            queue.listen(
                PostgresQueue.doneChannel,
                listening: {
                    listening.connected = true
                    waiters.notifyAll()
                },
                handler: { id in waiters.notify(id) }))
    }

    /// Stops listening.
    public func stop() {
        listening.cancel()
    }

    // MARK: Dispatcher

    public func invoke(_ request: InvocationRequest) async -> InvocationResult {
        let id = Engine.newID()
        let submittedAt = Date().timeIntervalSince1970
        let admitted: Admission.Admitted
        switch await admit(request) {
        case let .failure(refusal): return InvocationResult(id: id, outcome: .refused(refusal.error), label: refusal.label)
        case let .success(value): admitted = value
        }
        let label = admitted.invokerContext.label
        waiters.expect(id)
        defer { waiters.forget(id) }
        do {
            try await enqueue(request, admitted, id: id, submittedAt: submittedAt)
        } catch {
            return InvocationResult(id: id, outcome: .busy("cannot queue the invocation: \(error)"), label: label)
        }
        let limit = Double(admitted.gate.function.timeoutMilliseconds) / 1000 + configuration.queueWaitSeconds
        let deadline = ContinuousClock.now + .milliseconds(Int64(limit * 1000))
        while true {
            if let row = try? await invocation(id), let result = InvocationResult(record: row) { return result }
            let now = ContinuousClock.now
            guard now < deadline else {
                return InvocationResult(
                    id: id,
                    outcome: .busy("not finished within \(Int(limit)) s; it is still queued or running as invocation \(id)"),
                    label: label)
            }
            await waiters.wait(id, timeout: min(deadline - now, .milliseconds(Int64(configuration.recheckSeconds * 1000))))
        }
    }

    public func submit(_ request: InvocationRequest) async throws -> String {
        let id = Engine.newID()
        let submittedAt = Date().timeIntervalSince1970
        switch await admit(request) {
        case let .failure(refusal): throw SubmissionError.refused(refusal.error, label: refusal.label)
        case let .success(admitted):
            do {
                try await enqueue(request, admitted, id: id, submittedAt: submittedAt)
            } catch {
                throw SubmissionError.unavailable("cannot queue the invocation: \(error)")
            }
            return id
        }
    }

    public func invocation(_ id: String) async throws -> InvocationRecord? {
        let keys = fileSystem.keys
        return try await fileSystem.store.transaction(.read) { try InvocationRecords.load(id, in: $0, keys: keys) }
    }

    public func status() async -> DispatcherStatus {
        var status = DispatcherStatus()
        do {
            let (queued, leased) = try await queue.depth()
            let live = try await queue.workers().filter { $0.silentFor < configuration.leaseSeconds }
            status.queue = QueueStatus(queued: queued, leased: leased, liveWorkers: live.count, liveSlots: live.reduce(0) { $0 + $1.slots })
            if live.isEmpty { status.failures["workers"] = "no worker has sent a heartbeat in the last \(Int(configuration.leaseSeconds)) s" }
        } catch {
            status.failures["queue"] = "\(error)"
        }
        if !listening.connected { status.failures["notifications"] = "not listening for finished invocations yet" }
        return status
    }

    // MARK: Steps

    /// The checks before anything is queued; a refusal is answered at once and
    /// changes nothing (it is neither queued nor recorded).
    private func admit(_ request: InvocationRequest) async -> Result<Admission.Admitted, Admission.Refusal> {
        await Admission.admit(request, in: fileSystem, maxChainDepth: limits.maxChainDepth)
    }

    private func enqueue(_ request: InvocationRequest, _ admitted: Admission.Admitted, id: String, submittedAt: Double) async throws {
        var row = InvocationRecord(request, id: id, submittedAt: submittedAt)
        row.gate = admitted.gate.gate
        let encoded = try QueuedInvocation(request, admitted: admitted, submittedAt: submittedAt).encoded()
        let affinity = Engine.affinity(of: admitted.gate, startLabel: admitted.functionContext.label)
        try await queue.enqueue(row, request: encoded, affinity: affinity, maxAttempts: configuration.maxAttempts)
    }
}

/// The LISTEN connection of a dispatcher, and whether it is established.
final class ListenerState: @unchecked Sendable {
    private let lock = NSLock()
    private var listener: PostgresListener?
    private var isConnected = false

    func set(_ listener: PostgresListener) {
        lock.withLock { self.listener = listener }
    }

    func cancel() {
        lock.withLock { listener }?.cancel()
    }

    var connected: Bool {
        get { lock.withLock { isConnected } }
        set { lock.withLock { isConnected = newValue } }
    }
}
