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
    public let submittedAt: Double
    public let startedAt: Double?
    public let finishedAt: Double?
    /// How many times a cluster worker took it up (0 in the embedded mode).
    public let attempts: Int
    /// The label the result carries, once finished.
    public let resultLabel: Label?
    /// How it ended, or why it may not be shown.
    public let outcome: Result<Outcome, FSError>?
    /// The function's output, or why it may not be shown (nil while not finished).
    public let logs: Result<[UInt8], FSError>?

    /// A finished invocation's ending.
    public struct Outcome: Sendable {
        /// `completed` or `failed`.
        public let status: String
        public let responseStatus: Int?
        /// `nil` when the result was too large to record.
        public let result: [UInt8]?
        public let error: String?
    }

    init(_ row: InvocationRow, for privilege: Privilege) {
        id = row.id
        target = row.target
        parent = row.parent
        invoker = row.invoker
        submittedAt = row.submittedAt
        startedAt = row.startedAt
        finishedAt = row.finishedAt
        attempts = row.attempts
        let finished = row.status == "completed" || row.status == "failed"
        state = finished ? "finished" : row.status
        guard finished else {
            resultLabel = nil
            outcome = nil
            logs = nil
            return
        }
        // A record whose labels do not parse is shown to nobody.
        let resultLabel = row.resultLabel.flatMap { try? Label(parsing: $0) } ?? .top
        self.resultLabel = resultLabel
        outcome = Self.released(resultLabel, to: privilege) {
            Outcome(status: row.status, responseStatus: row.responseStatus, result: row.result, error: row.error)
        }
        let logLabel = row.logLabel.flatMap { try? Label(parsing: $0) } ?? (row.logs == nil ? .public : .top)
        logs = Self.released(logLabel, to: privilege) { row.logs ?? [] }
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
