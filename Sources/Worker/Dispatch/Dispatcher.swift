import FileSystem
import Foundation
import Labels
import Monitor
import Store

/// Where the gateway's invocations go: run in this process (the embedded ``Engine``)
/// or through a cluster's durable queue to whichever worker claims them.
///
/// ```swift
/// let dispatcher: any Dispatcher = worker
/// let result = await dispatcher.invoke(request)
/// ```
public protocol Dispatcher: Sendable {
    /// The labeled file system invocations resolve their gates in.
    var fileSystem: FileSystem { get }
    /// Runs an invocation to its end and returns how it ended.
    func invoke(_ request: InvocationRequest) async -> InvocationResult
    /// Checks an invocation, records it and queues it; returns its id at once. A 202 is a
    /// promise: an accepted invocation runs. A refusal (``SubmissionError``) records
    /// nothing.
    func submit(_ request: InvocationRequest) async throws -> String
    /// The record of an invocation, as stored (no release check: see ``invocation(_:visibleTo:)``).
    func invocation(_ id: String) async throws -> InvocationRecord?
    /// What operators should know: the local pool, the queue, failures.
    func status() async -> DispatcherStatus
}

/// Why a submission was not accepted. Nothing was recorded or queued.
public enum SubmissionError: Error, CustomStringConvertible {
    /// A flow rule or a bad request (the gate, the path): the invoker's context had
    /// reached `label`, which is what the refusal itself reveals.
    case refused(FSError, label: Label)
    /// The queue, or the invoker's share of it, is full: retry later.
    case busy(String)
    /// The store or the queue failed.
    case unavailable(String)

    public var description: String {
        switch self {
        case let .refused(error, _): return "\(error)"
        case let .busy(reason): return "busy: \(reason)"
        case let .unavailable(reason): return "unavailable: \(reason)"
        }
    }
}

/// A dispatcher's state for `/healthz` and `/metrics`.
public struct DispatcherStatus: Sendable {
    /// The local sandbox pool (embedded mode).
    public var pool: PoolStatus?
    /// The durable queue and its workers (cluster mode).
    public var queue: QueueStatus?
    /// Why something this dispatcher depends on is failing (`nil`: nothing is): the
    /// recording of invocations, the queue's notifications.
    public var failures: [String: String] = [:]

    public init(pool: PoolStatus? = nil, queue: QueueStatus? = nil, failures: [String: String] = [:]) {
        self.pool = pool
        self.queue = queue
        self.failures = failures
    }
}

/// What a sandbox pool holds.
public struct PoolStatus: Sendable {
    public let usedMB: Int
    public let idle: Int
    public let prestarted: Int
    public let waiting: Int
}

/// What a cluster's queue holds and who serves it.
public struct QueueStatus: Sendable {
    /// Invocations waiting for a worker.
    public let queued: Int
    /// Invocations a live worker holds.
    public let leased: Int
    /// Workers that sent a heartbeat lately.
    public let liveWorkers: Int
    /// Slots (invocations at once) of the live workers.
    public let liveSlots: Int

    public init(queued: Int, leased: Int, liveWorkers: Int, liveSlots: Int) {
        self.queued = queued
        self.leased = leased
        self.liveWorkers = liveWorkers
        self.liveSlots = liveSlots
    }
}

extension Dispatcher {
    /// The record of invocation `id` as `privilege` may see it; `nil` if there is no such
    /// invocation or `privilege` does not speak for its invoker (an invocation is its
    /// invoker's business).
    public func invocation(_ id: String, visibleTo privilege: Privilege) async throws -> InvocationView? {
        guard let row = try await invocation(id) else { return nil }
        guard let invoker = try? Privilege(parsing: row.invoker), privilege.canDelegate(invoker) else { return nil }
        return InvocationView(row, for: privilege)
    }
}
