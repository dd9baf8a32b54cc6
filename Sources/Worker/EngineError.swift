/// A failure of the engine itself (not of a function, not a refusal).
public enum EngineError: Error, Hashable, Sendable, CustomStringConvertible {
    case `internal`(String)
    /// Too much queued work; try again later.
    case busy(String)

    public var description: String {
        switch self {
        case let .`internal`(reason): return "internal error: \(reason)"
        case let .busy(reason): return "busy: \(reason)"
        }
    }
}
