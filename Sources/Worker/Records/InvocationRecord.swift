import FileSystem
import Foundation
import Labels
import Monitor
import Store

/// One invocation as recorded: what was asked, how it went, what it answered. The one
/// shape the engine writes, the cluster queues and completes, the gateway shows (after
/// the release rule, ``InvocationView``) and `fstn` reads as JSON. Times are seconds
/// since 1970.
public struct InvocationRecord: Sendable, Hashable, Codable {
    /// Where an invocation is.
    public enum Status: String, Sendable, Hashable, Codable {
        case queued, running, completed, failed

        public var isFinal: Bool { self == .completed || self == .failed }
    }

    /// How a finished invocation ended.
    public enum Outcome: Sendable, Hashable, Codable {
        /// The function answered with an HTTP-like status and a body.
        case completed(status: Int, body: [UInt8])
        /// Refused before it ran (a flow rule or a bad request), with the reason.
        case refused(reason: String)
        /// It ran and failed: `code` is ``InvocationFailure/code`` (`timeout`, `exited`,
        /// `memory-limit`, …), or `lost` when every worker running it was lost.
        case failed(code: String, reason: String)
        /// There was no room to run it.
        case busy(reason: String)

        /// Whether the function answered.
        public var isCompleted: Bool {
            if case .completed = self { return true }
            return false
        }

        /// The code stored beside the reason (`nil` for a completed run).
        var code: String? {
            switch self {
            case .completed: return nil
            case .refused: return "refused"
            case let .failed(code, _): return code
            case .busy: return "busy"
            }
        }
    }

    public var id: String
    /// The direct gate that ran, once resolved.
    public var gate: ObjectID?
    /// What was invoked, as asked (a path, or a description for chained calls).
    public var target: String
    /// The invocation that made this one, for chained calls.
    public var parent: String?
    /// The invoker's privilege (component text).
    public var invoker: String
    public var startLabel: String
    public var status: Status
    public var submittedAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    /// Once finished: how.
    public var outcome: Outcome?
    /// The label the result carries (after the gate's declassification).
    public var resultLabel: String?
    /// The function's stdout and stderr, labeled with the invocation's final label.
    public var logs: [UInt8]?
    public var logLabel: String?
    /// The cluster worker that ran it (`nil` in the embedded mode).
    public var worker: String?
    /// How many times a cluster worker claimed it (a worker lost mid-run means a retry).
    public var attempts: Int

    public init(
        id: String, gate: ObjectID? = nil, target: String, parent: String? = nil, invoker: String, startLabel: String,
        status: Status, submittedAt: Double, startedAt: Double? = nil, finishedAt: Double? = nil, outcome: Outcome? = nil,
        resultLabel: String? = nil, logs: [UInt8]? = nil, logLabel: String? = nil, worker: String? = nil, attempts: Int = 0
    ) {
        self.id = id
        self.gate = gate
        self.target = target
        self.parent = parent
        self.invoker = invoker
        self.startLabel = startLabel
        self.status = status
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.resultLabel = resultLabel
        self.logs = logs
        self.logLabel = logLabel
        self.worker = worker
        self.attempts = attempts
    }

    /// A completed run's body.
    public var result: [UInt8]? {
        if case let .completed(_, body)? = outcome { return body }
        return nil
    }

    /// A completed run's HTTP-like status.
    public var responseStatus: Int? {
        if case let .completed(status, _)? = outcome { return status }
        return nil
    }

    /// Why it did not complete: `refused`, `busy`, or the failure's code, and the reason.
    public var failure: (code: String, reason: String)? {
        switch outcome {
        case let .refused(reason)?: return ("refused", reason)
        case let .failed(code, reason)?: return (code, reason)
        case let .busy(reason)?: return ("busy", reason)
        case .completed?, nil: return nil
        }
    }

    /// The record of `request` before it runs (status `queued`).
    public init(_ request: InvocationRequest, id: String, submittedAt: Double) {
        self.init(
            id: id, target: request.target.description, parent: request.parent, invoker: request.invoker.description,
            startLabel: request.startLabel.description, status: .queued, submittedAt: submittedAt)
    }

    /// Ends the record with how `result` ended: its status, its label, and its outcome,
    /// with a completed result's whole body (one over `resultLimit` bytes fails the
    /// record with the reason: a result is never dropped silently).
    public mutating func finish(_ result: InvocationResult, keepingResultsUpTo resultLimit: Int) {
        finishedAt = Date().timeIntervalSince1970
        resultLabel = result.label.description
        switch result.outcome {
        case let .completed(response) where response.body.count > resultLimit:
            status = .failed
            outcome = .failed(
                code: "result-too-large",
                reason: "the result of \(response.body.count) bytes exceeds the record's limit of \(resultLimit)")
        case let .completed(response):
            status = .completed
            outcome = .completed(status: response.status, body: response.body)
        case let .refused(error):
            status = .failed
            outcome = .refused(reason: "\(error)")
        case let .failed(failure):
            status = .failed
            outcome = .failed(code: failure.code, reason: failure.description)
        case let .busy(reason):
            status = .failed
            outcome = .busy(reason: reason)
        }
    }
}

extension InvocationResult {
    /// How a recorded invocation ended, for a caller that waited on another process
    /// (the inverse of ``InvocationRecord/finish(_:keepingResultsUpTo:)``). `nil` while
    /// the record is not final.
    public init?(record: InvocationRecord) {
        guard record.status.isFinal, let outcome = record.outcome else { return nil }
        // A record whose label does not parse is shown to nobody.
        let label = record.resultLabel.flatMap { try? Label(parsing: $0) } ?? .top
        switch outcome {
        case let .completed(status, body):
            self.init(id: record.id, outcome: .completed(FunctionResponse(body: body, status: status)), label: label)
        case let .refused(reason):
            self.init(id: record.id, outcome: .failed(.reported(code: "refused", reason: reason)), label: label)
        case let .failed(code, reason):
            let failure: InvocationFailure
            switch code {
            case "timeout": failure = .timeout
            case "memory-limit": failure = .memoryLimit
            default: failure = .reported(code: code, reason: reason)
            }
            self.init(id: record.id, outcome: .failed(failure), label: label)
        case let .busy(reason):
            self.init(id: record.id, outcome: .busy(reason), label: label)
        }
    }
}
