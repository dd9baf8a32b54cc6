/// Why a label, component or principal was refused.
public enum LabelError: Error, Hashable, Sendable {
    /// The text does not follow the label grammar. `position` counts Unicode scalars from 1.
    case syntax(SyntaxProblem, position: Int)
    /// Untrusted input is larger than ``LabelLimits`` allows.
    case limitExceeded(LabelLimits.Measure, limit: Int)
    /// A structurally invalid value from a non-text form (protobuf, JSON, Swift API).
    case invalid(String)
    /// A lattice operation's result would exceed ``LabelLimits`` (`label too large`):
    /// refused before the work grows, so every computed label stays within the limits.
    case tooLarge(LabelLimits.Measure, limit: Int)

    /// What exactly is wrong with label text.
    public enum SyntaxProblem: Hashable, Sendable {
        case emptyInput
        case emptyComponent
        case emptyClause
        case emptyPrincipal
        case emptyToken
        case danglingEscape
        case invalidEscape(Character)
        case controlCharacter(UInt8)
        case missingComma
        case trailingInput(Character)
    }
}

extension LabelError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .syntax(problem, position):
            return "at position \(position): \(problem.reason)"
        case let .limitExceeded(measure, limit):
            return "\(measure.reason) exceeds the limit of \(limit)"
        case let .invalid(reason):
            return reason
        case let .tooLarge(measure, limit):
            return "label too large: the result would exceed the limit of \(limit) on the \(measure.reason)"
        }
    }
}

extension LabelError.SyntaxProblem {
    /// A sentence a user can act on.
    public var reason: String {
        switch self {
        case .emptyInput:
            return "empty label: write secrecy,integrity, e.g. T,T"
        case .emptyComponent:
            return "empty component: write T for true or F for false"
        case .emptyClause:
            return "empty clause: '&' must join two non-empty clauses"
        case .emptyPrincipal:
            return "empty principal: '|' must join two non-empty principals"
        case .emptyToken:
            return "empty token: '/' must join two non-empty tokens"
        case .danglingEscape:
            return "dangling escape: '\\' must be followed by one of , | & / \\ T F"
        case let .invalidEscape(character):
            return "invalid escape '\\\(character)': only , | & / \\ T F can follow '\\'"
        case let .controlCharacter(byte):
            return "control character \(Principal.describeControl(byte)) is not allowed in a token"
        case .missingComma:
            return "missing ',' between the secrecy and integrity components"
        case let .trailingInput(character):
            return "unexpected '\(character)' where the input should end (inside a token, escape it with '\\')"
        }
    }
}
