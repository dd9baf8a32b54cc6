/// One label computation, as `faasten label` and its batch mode take them.
///
/// A query line is an operation and its arguments separated by single TABs:
///
/// ```
/// flows   L1 L2 [P]    L1 ⊑ L2 (with privilege P)  → true | false
/// lub     L1 L2                                     → label
/// glb     L1 L2                                     → label
/// downgrade L P                                     → label
/// endorse L P                                       → label
/// parse   L                                         → label
/// ```
///
/// Labels are `secrecy,integrity` text; a privilege is a component (`alice&bob`, `T`, `F`).
public enum LabelQuery: Sendable, Hashable {
    case parse(Label)
    case flows(Label, Label, Privilege?)
    case lub(Label, Label)
    case glb(Label, Label)
    case downgrade(Label, Privilege)
    case endorse(Label, Privilege)

    /// The result of a query.
    public enum Answer: Sendable, Hashable, CustomStringConvertible {
        case bool(Bool)
        case label(Label)

        /// `true`, `false`, or the canonical label.
        public var description: String {
            switch self {
            case let .bool(value): return value ? "true" : "false"
            case let .label(label): return label.description
            }
        }
    }

    /// Computes the answer; a result beyond the label limits is refused (`label too large`).
    public func evaluate() throws(LabelError) -> Answer {
        switch self {
        case let .parse(label): return .label(label)
        case let .flows(from, to, nil): return .bool(from.canFlow(to: to))
        case let .flows(from, to, privilege?): return .bool(from.canFlow(to: to, with: privilege))
        case let .lub(a, b): return .label(try a.lub(b))
        case let .glb(a, b): return .label(try a.glb(b))
        case let .downgrade(label, privilege): return .label(try label.downgraded(with: privilege))
        case let .endorse(label, privilege): return .label(try label.endorsed(with: privilege))
        }
    }

    /// The operations and their argument names, for messages and help.
    public static let operations: [(name: String, arguments: [String])] = [
        ("flows", ["L1", "L2", "[P]"]), ("lub", ["L1", "L2"]), ("glb", ["L1", "L2"]),
        ("downgrade", ["L", "P"]), ("endorse", ["L", "P"]), ("parse", ["L"]),
    ]

    /// Parses a TAB-separated query line (without its line terminator).
    public init(line: Substring, limits: LabelLimits = .default) throws(LabelQueryError) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard let operation = fields.first, !operation.isEmpty else { throw .emptyQuery }
        let arguments = Array(fields.dropFirst())
        try self.init(operation: String(operation), arguments: arguments.map(String.init), limits: limits)
    }

    /// Builds a query from an operation name and its argument texts.
    public init(operation: String, arguments: [String], limits: LabelLimits = .default) throws(LabelQueryError) {
        func label(_ i: Int) throws(LabelQueryError) -> Label {
            do { return try Label(parsing: arguments[i], limits: limits) } catch {
                throw .badArgument(operation: operation, index: i + 1, error)
            }
        }
        func privilege(_ i: Int) throws(LabelQueryError) -> Privilege {
            do { return try Privilege(parsing: arguments[i], limits: limits) } catch {
                throw .badArgument(operation: operation, index: i + 1, error)
            }
        }
        func expect(_ counts: ClosedRange<Int>) throws(LabelQueryError) {
            guard counts.contains(arguments.count) else {
                throw .wrongArgumentCount(operation: operation, expected: counts, got: arguments.count)
            }
        }
        switch operation {
        case "parse":
            try expect(1...1)
            self = .parse(try label(0))
        case "flows":
            try expect(2...3)
            self = .flows(try label(0), try label(1), arguments.count == 3 ? try privilege(2) : nil)
        case "lub":
            try expect(2...2)
            self = .lub(try label(0), try label(1))
        case "glb":
            try expect(2...2)
            self = .glb(try label(0), try label(1))
        case "downgrade":
            try expect(2...2)
            self = .downgrade(try label(0), try privilege(1))
        case "endorse":
            try expect(2...2)
            self = .endorse(try label(0), try privilege(1))
        default:
            throw .unknownOperation(operation)
        }
    }

    /// The output line for one input line: the answer, or `error: <reason>`.
    public static func answerLine(for line: Substring, limits: LabelLimits = .default) -> String {
        do {
            return try LabelQuery(line: line, limits: limits).evaluate().description
        } catch {
            return "error: \(error)"
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(filter { !set.contains($0) })
    }
}

/// Why a query line could not be evaluated.
public enum LabelQueryError: Error, Hashable, Sendable, CustomStringConvertible {
    case emptyQuery
    case unknownOperation(String)
    case wrongArgumentCount(operation: String, expected: ClosedRange<Int>, got: Int)
    /// Argument `index` (from 1) is not a valid label or privilege.
    case badArgument(operation: String, index: Int, LabelError)

    public var description: String {
        switch self {
        case .emptyQuery:
            return "empty query: expected an operation (flows, lub, glb, downgrade, endorse, parse)"
        case let .unknownOperation(name):
            return "unknown operation '\(name)': expected flows, lub, glb, downgrade, endorse or parse"
        case let .wrongArgumentCount(operation, expected, got):
            let usage = LabelQuery.operations.first { $0.name == operation }.map { "\(operation) " + $0.arguments.joined(separator: " ") } ?? operation
            let count = expected.lowerBound == expected.upperBound ? "\(expected.lowerBound)" : "\(expected.lowerBound) or \(expected.upperBound)"
            return "\(operation) takes \(count) TAB-separated arguments, got \(got) (usage: \(usage))"
        case let .badArgument(operation, index, error):
            let name = LabelQuery.operations.first { $0.name == operation }?.arguments[index - 1]
                .trimmingCharacters(in: "[]") ?? "argument"
            return "\(name) (argument \(index)): \(error)"
        }
    }
}
