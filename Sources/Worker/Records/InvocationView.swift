import FileSystem
import Foundation
import Labels
import Store

/// An invocation record as someone holding a privilege may see it: how the run ended,
/// its result and its logs appear only where the release rule lets them (results at
/// the result label, logs at the invocation's final label).
public struct InvocationView: Sendable {
    public let id: String
    public let target: String
    public let parent: String?
    public let invoker: String
    /// `queued`, `running` or `finished` (how it finished is behind ``outcome``).
    public let state: String
    public let status: InvocationRecord.Status
    public let submittedAt: Double
    public let startedAt: Double?
    public let finishedAt: Double?
    /// How many times a cluster worker took it up (0 in the embedded mode).
    public let attempts: Int
    /// The label the result carries, once finished.
    public let resultLabel: Label?
    /// How it ended, or why it may not be shown.
    public let outcome: Result<InvocationRecord.Outcome, FSError>?
    /// The function's output, or why it may not be shown (nil while not finished).
    public let logs: Result<[UInt8], FSError>?

    init(_ record: InvocationRecord, for privilege: Privilege) {
        id = record.id
        target = record.target
        parent = record.parent
        invoker = record.invoker
        submittedAt = record.submittedAt
        startedAt = record.startedAt
        finishedAt = record.finishedAt
        attempts = record.attempts
        status = record.status
        state = record.status.isFinal ? "finished" : record.status.rawValue
        guard record.status.isFinal else {
            resultLabel = nil
            outcome = nil
            logs = nil
            return
        }
        // A record whose labels do not parse is shown to nobody.
        let resultLabel = record.resultLabel.flatMap { try? Label(parsing: $0) } ?? .top
        self.resultLabel = resultLabel
        let finished = record.outcome ?? .failed(code: "failed", reason: "no outcome was recorded")
        outcome = Self.released(resultLabel, to: privilege) { finished }
        let logLabel = record.logLabel.flatMap { try? Label(parsing: $0) } ?? (record.logs == nil ? .public : .top)
        logs = Self.released(logLabel, to: privilege) { record.logs ?? [] }
    }

    private static func released<T>(_ label: Label, to privilege: Privilege, _ value: () -> T) -> Result<T, FSError> {
        do {
            try ReleaseCheck.check(label, to: privilege)
            return .success(value())
        } catch {
            return .failure(error)
        }
    }
}
