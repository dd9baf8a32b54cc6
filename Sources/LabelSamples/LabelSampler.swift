import Labels

/// Random labels over hierarchical principals such as `alice`, `alice/photo` and
/// `alice/photo/2026`, for property tests, benchmarks and conformance checks.
///
/// ```swift
/// var rng = SplitMix64(seed: 1)
/// let label = LabelSampler.typical.label(using: &rng)
/// ```
public struct LabelSampler: Sendable {
    /// First tokens.
    public var roots: [String]
    /// Tokens for deeper levels.
    public var extensions: [String]
    /// Tokens per principal.
    public var depth: ClosedRange<Int>
    /// Clauses per component (before reduction).
    public var clauses: ClosedRange<Int>
    /// Principals per clause (before reduction).
    public var principalsPerClause: ClosedRange<Int>
    /// Chance that a component is the constant `T` or `F` instead of clauses.
    public var constantRate: Double

    public init(
        roots: [String], extensions: [String], depth: ClosedRange<Int>, clauses: ClosedRange<Int>,
        principalsPerClause: ClosedRange<Int>, constantRate: Double
    ) {
        self.roots = roots
        self.extensions = extensions
        self.depth = depth
        self.clauses = clauses
        self.principalsPerClause = principalsPerClause
        self.constantRate = constantRate
    }

    /// 1–4 clauses of 1–3 principals of depth ≤ 3 over alice, bob and carol.
    public static let typical = LabelSampler(
        roots: ["alice", "bob", "carol"], extensions: ["photo", "staff", "2026"], depth: 1...3,
        clauses: 1...4, principalsPerClause: 1...3, constantRate: 0.1)

    /// 50 clauses of 1–3 principals over 40 roots, so that few clauses reduce away.
    public static let large = LabelSampler(
        roots: (0..<40).map { "user\($0)" }, extensions: ["photo", "staff", "2026"], depth: 1...3,
        clauses: 50...50, principalsPerClause: 1...3, constantRate: 0)

    /// Like ``typical`` but every token needs escaping or looks like a constant.
    public static let escaping = LabelSampler(
        roots: ["a,b", "x|y", "m&n", "s/t", "back\\slash", "T", "F", "Tom", "Fred", "ünï cøde", "T\\F"],
        extensions: ["p,", "|", "&&", "/", "\\", "T", "F", " sp ace"], depth: 1...3,
        clauses: 1...4, principalsPerClause: 1...3, constantRate: 0.1)

    public func principal(using rng: inout some RandomNumberGenerator) -> Principal {
        var tokens = [roots.randomElement(using: &rng)!]
        let count = Int.random(in: depth, using: &rng)
        while tokens.count < count { tokens.append(extensions.randomElement(using: &rng)!) }
        return try! Principal(tokens)
    }

    public func clause(using rng: inout some RandomNumberGenerator) -> Clause {
        let count = Int.random(in: principalsPerClause, using: &rng)
        return Clause((0..<count).map { _ in principal(using: &rng) })!
    }

    /// Clauses only, never a constant.
    public func formula(using rng: inout some RandomNumberGenerator) -> Component {
        let count = Int.random(in: clauses, using: &rng)
        return Component(clauses: (0..<count).map { _ in clause(using: &rng) })
    }

    public func component(using rng: inout some RandomNumberGenerator) -> Component {
        if Double.random(in: 0..<1, using: &rng) < constantRate {
            return Bool.random(using: &rng) ? .true : .false
        }
        return formula(using: &rng)
    }

    public func label(using rng: inout some RandomNumberGenerator) -> Label {
        Label(secrecy: component(using: &rng), integrity: component(using: &rng))
    }

    /// A privilege as users hold them: a conjunction of 1–2 principals, sometimes `T` or `F`.
    public func privilege(using rng: inout some RandomNumberGenerator) -> Privilege {
        if Double.random(in: 0..<1, using: &rng) < constantRate {
            return Bool.random(using: &rng) ? .none : .root
        }
        let count = Int.random(in: 1...2, using: &rng)
        return Privilege(Component((0..<count).map { _ in [principal(using: &rng)] }))
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64), so that runs repeat.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
