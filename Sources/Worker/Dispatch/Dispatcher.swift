import FileSystem
import Foundation
import Labels
import Monitor
import Store

/// Where the gateway's invocations go: run in this process (the embedded ``Worker``)
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
    func invoke(_ request: InvokeRequest) async -> InvokeResult
    /// Checks an invocation, records it and queues it; returns its id at once. A 202 is a
    /// promise: an accepted invocation runs. A refusal (``SubmissionError``) records
    /// nothing.
    func submit(_ request: InvokeRequest) async throws -> String
    /// The record of an invocation, as stored (no release check: see ``invocation(_:visibleTo:)``).
    func invocation(_ id: String) async throws -> InvocationRow?
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

extension InvocationRow {
    /// Ends the record with how `result` ended: its status, its label, the response or
    /// `code: reason` of a failure (read back by ``InvokeResult/init(record:)``), and the
    /// whole body of a completed result (one over `resultLimit` bytes fails the record
    /// with the reason).
    public mutating func finish(_ result: InvokeResult, keepingResultsUpTo resultLimit: Int) {
        finishedAt = Date().timeIntervalSince1970
        resultLabel = result.label.description
        switch result.outcome {
        case let .completed(response) where response.body.count > resultLimit:
            // Never dropped silently: a result that cannot be recorded fails the record.
            status = "failed"
            responseStatus = response.status
            self.error = "result-too-large: the result of \(response.body.count) bytes exceeds the record's limit of \(resultLimit)"
        case let .completed(response):
            status = "completed"
            responseStatus = response.status
            self.result = response.body
        case let .refused(error):
            status = "failed"
            self.error = "refused: \(error)"
        case let .failed(failure):
            status = "failed"
            self.error = "\(failure.code): \(failure)"
        case let .busy(reason):
            status = "failed"
            self.error = "busy: \(reason)"
        }
    }
}

extension InvokeResult {
    /// How a recorded invocation ended, for a caller that waited on another process
    /// (the inverse of ``InvocationRow/finish(_:keepingResultsUpTo:)``). `nil` while the
    /// record is not final.
    public init?(record row: InvocationRow) {
        guard row.status == "completed" || row.status == "failed" else { return nil }
        // A record whose label does not parse is shown to nobody.
        let label = row.resultLabel.flatMap { try? Label(parsing: $0) } ?? .top
        if row.status == "completed" {
            self.init(
                id: row.id, outcome: .completed(FunctionResponse(body: row.result ?? [], status: row.responseStatus ?? 200)),
                label: label)
            return
        }
        let error = row.error ?? "failed: no reason was recorded"
        let split = error.range(of: ": ")
        let code = split.map { String(error[..<$0.lowerBound]) } ?? "failed"
        let reason = split.map { String(error[$0.upperBound...]) } ?? error
        switch code {
        case "busy": self.init(id: row.id, outcome: .busy(reason), label: label)
        case "timeout": self.init(id: row.id, outcome: .failed(.timeout), label: label)
        case "memory-limit": self.init(id: row.id, outcome: .failed(.memoryLimit), label: label)
        default: self.init(id: row.id, outcome: .failed(.reported(code: code, reason: reason)), label: label)
        }
    }
}
