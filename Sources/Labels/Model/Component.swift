/// One half of a label: `F`, or a conjunction (CNF) of clauses; the empty conjunction is `T`.
///
/// Components are always canonical: clauses are canonical, sorted, and none
/// implies another (the implied, weaker one is dropped). Two components are `==`
/// exactly when they imply each other.
///
/// ```swift
/// let s = try Component(parsing: "alice&bob|carol")
/// s.implies(try Component(parsing: "alice"))   // true
/// ```
public struct Component: Sendable {
    /// `nil` is False; an empty array is True.
    @usableFromInline let storage: [Clause]?

    @usableFromInline init(storage: [Clause]?) {
        self.storage = storage
    }

    /// True: the empty conjunction (for secrecy: public; for integrity: nobody vouches).
    public static let `true` = Component(storage: [])
    /// False: implies everything (for secrecy: nobody may read; as a privilege: all of them).
    public static let `false` = Component(storage: nil)

    /// The conjunction of the given clauses, reduced to canonical form.
    public init(clauses: [Clause]) {
        self.init(storage: Component.reduce(clauses))
    }

    /// The conjunction of disjunctions given as principal lists; an empty inner list is
    /// an empty disjunction, i.e. False.
    public init(_ clauses: [[Principal]]) {
        var built: [Clause] = []
        built.reserveCapacity(clauses.count)
        for principals in clauses {
            guard let clause = Clause(principals) else {
                self = .false
                return
            }
            built.append(clause)
        }
        self.init(clauses: built)
    }

    /// A component of one principal.
    public init(_ principal: Principal) {
        self.init(storage: [Clause(principal)])
    }

    public var isFalse: Bool { storage == nil }
    public var isTrue: Bool { storage?.isEmpty == true }
    /// The canonical clauses, or `nil` for False. True has none.
    public var clauses: [Clause]? { storage }

    // MARK: Implication

    /// `self ⇒ other`.
    @inlinable
    public func implies(_ other: Component) -> Bool {
        guard let lhs = storage else { return true }
        guard let rhs = other.storage else { return false }
        for needed in rhs where !Component.someClause(of: lhs, implies: needed) {
            return false
        }
        return true
    }

    /// `(self ∧ extra) ⇒ other`, without building the conjunction.
    @inlinable
    public func implies(_ other: Component, given extra: Component) -> Bool {
        guard let lhs = storage, let more = extra.storage else { return true }
        guard let rhs = other.storage else { return false }
        for needed in rhs {
            if !Component.someClause(of: lhs, implies: needed) && !Component.someClause(of: more, implies: needed) {
                return false
            }
        }
        return true
    }

    @inlinable
    static func someClause(of clauses: [Clause], implies needed: Clause) -> Bool {
        for clause in clauses where clause.implies(needed) { return true }
        return false
    }

    // MARK: Lattice operations

    /// `self ∧ other`, canonical, within `limits`: a result with more clauses than
    /// `limits.maxClauses` is refused (`label too large`). Every computed label stays
    /// within the limits untrusted input is held to, so no sequence of operations can
    /// grow one without bound.
    public func and(_ other: Component, within limits: LabelLimits = .default) throws(LabelError) -> Component {
        guard let lhs = storage, let rhs = other.storage else { return .false }
        if lhs.isEmpty { return try other.checked(within: limits) }
        if rhs.isEmpty { return try checked(within: limits) }
        try Component.checkInput(lhs, rhs, within: limits)
        // Both sides are already reduced, so only cross pairs can make a clause
        // redundant. On a tie (equal clauses) the left copy stays.
        let keptLeft = lhs.filter { clause in !rhs.contains { $0 != clause && $0.implies(clause) } }
        let keptRight = rhs.filter { clause in !lhs.contains { $0.implies(clause) } }
        guard keptLeft.count + keptRight.count <= limits.maxClauses else { throw .tooLarge(.clauses, limit: limits.maxClauses) }
        return Component(storage: Component.merge(keptLeft, keptRight))
    }

    /// `self ∨ other` by full CNF distribution, `∧ᵢⱼ (aᵢ ∨ bⱼ)`, reduced: the exact
    /// disjunction, so lub and glb are least and greatest.
    ///
    /// Distribution multiplies clause counts, so the work is bounded first (each side
    /// within `limits.maxClauses`, so at most its square of candidate clauses), and the
    /// reduction stops as soon as the result is known to exceed the limits (more than
    /// `maxClauses` clauses, or a surviving clause of more than `maxPrincipalsPerClause`
    /// principals): `label too large`, before the work explodes.
    public func or(_ other: Component, within limits: LabelLimits = .default) throws(LabelError) -> Component {
        guard let lhs = storage else { return try other.checked(within: limits) }
        guard let rhs = other.storage else { return try checked(within: limits) }
        if lhs.isEmpty || rhs.isEmpty { return .true }
        try Component.checkInput(lhs, rhs, within: limits)
        if implies(other) { return other }
        if other.implies(self) { return self }
        var product: [Clause] = []
        product.reserveCapacity(lhs.count * rhs.count)
        for a in lhs {
            for b in rhs { product.append(a.or(b)) }
        }
        return Component(storage: try Component.reduce(product, within: limits))
    }

    /// This component, if it is within `limits`.
    func checked(within limits: LabelLimits) throws(LabelError) -> Component {
        guard let clauses = storage else { return self }
        guard clauses.count <= limits.maxClauses else { throw .tooLarge(.clauses, limit: limits.maxClauses) }
        return self
    }

    /// Operands beyond the limits are refused before any work (they cannot come from
    /// parsed input or from a bounded operation).
    static func checkInput(_ lhs: [Clause], _ rhs: [Clause], within limits: LabelLimits) throws(LabelError) {
        guard lhs.count <= limits.maxClauses, rhs.count <= limits.maxClauses else {
            throw .tooLarge(.clauses, limit: limits.maxClauses)
        }
    }

    /// The clauses of `self` that `privilege` does not discharge: the weakest secrecy
    /// `S'` with `S' ∧ privilege ⇒ self`.
    public func removingClauses(dischargedBy privilege: Component) -> Component {
        guard let owned = privilege.storage else { return .true }
        guard let clauses = storage else { return .false }
        // A subset of a reduced, sorted list stays reduced and sorted.
        return Component(storage: clauses.filter { !Component.someClause(of: owned, implies: $0) })
    }

    // MARK: Canonical form

    /// Drops duplicates and every clause implied by another one, then sorts.
    ///
    /// If `d ⇒ c` for distinct canonical clauses then `d` has no more principals than
    /// `c` (each of `d`'s is a prefix of a different one of `c`'s) and, with as many,
    /// strictly fewer key bytes. So in (count, bytes) order every implying clause comes
    /// first, and it is enough to test each clause against the ones kept so far: a
    /// dropped implier is itself implied by a kept one.
    @usableFromInline
    static func reduce(_ clauses: [Clause]) -> [Clause] {
        if clauses.count < 2 { return clauses }
        let bySize = clauses.map { clause in
            (clause: clause, count: clause.principals.count, bytes: clause.principals.reduce(0) { $0 + $1.key.count })
        }.sorted { ($0.count, $0.bytes) < ($1.count, $1.bytes) }
        var kept: [Clause] = []
        kept.reserveCapacity(bySize.count)
        if bySize.count <= indexThreshold {
            for entry in bySize where !someClause(of: kept, implies: entry.clause) {
                kept.append(entry.clause)
            }
        } else {
            keepUnimplied(bySize.lazy.map(\.clause), into: &kept)
        }
        kept.sort()
        return kept
    }

    /// ``reduce(_:)`` that stops as soon as the result would exceed `limits`. Clauses
    /// are kept in (count, bytes) order and a kept clause is never dropped later, so
    /// the kept list only grows: once it holds more than `maxClauses`, or keeps a clause
    /// longer than `maxPrincipalsPerClause`, so would the result.
    static func reduce(_ clauses: [Clause], within limits: LabelLimits) throws(LabelError) -> [Clause] {
        if clauses.count < 2 {
            if let only = clauses.first, only.principals.count > limits.maxPrincipalsPerClause {
                throw .tooLarge(.principalsPerClause, limit: limits.maxPrincipalsPerClause)
            }
            return clauses
        }
        let bySize = clauses.map { clause in
            (clause: clause, count: clause.principals.count, bytes: clause.principals.reduce(0) { $0 + $1.key.count })
        }.sorted { ($0.count, $0.bytes) < ($1.count, $1.bytes) }
        var kept: [Clause] = []
        kept.reserveCapacity(min(bySize.count, limits.maxClauses + 1))
        for entry in bySize where !someClause(of: kept, implies: entry.clause) {
            guard entry.count <= limits.maxPrincipalsPerClause else {
                throw .tooLarge(.principalsPerClause, limit: limits.maxPrincipalsPerClause)
            }
            kept.append(entry.clause)
            guard kept.count <= limits.maxClauses else { throw .tooLarge(.clauses, limit: limits.maxClauses) }
        }
        kept.sort()
        return kept
    }

    /// Above this many clauses, `reduce` indexes the kept clauses instead of scanning them.
    static let indexThreshold = 48

    /// The scan of `reduce` for many clauses (a disjunction of two large components has
    /// |A|·|B| of them). A clause `k` can only imply `c` if `k`'s first principal is a
    /// prefix of one of `c`'s, so kept clauses are indexed by the hash of their first
    /// principal and `c` looks up the hashes of its principals' prefixes.
    static func keepUnimplied(_ ordered: some Sequence<Clause>, into kept: inout [Clause]) {
        var byFirstPrincipal: [UInt64: [Int]] = [:]
        var prefixHashes: [UInt64] = []
        for candidate in ordered {
            prefixHashes.removeAll(keepingCapacity: true)
            for principal in candidate.principals { principal.appendPrefixHashes(to: &prefixHashes) }
            var implied = false
            search: for hash in prefixHashes {
                for index in byFirstPrincipal[hash] ?? [] where kept[index].implies(candidate) {
                    implied = true
                    break search
                }
            }
            if !implied {
                byFirstPrincipal[candidate.principals[0].keyHash, default: []].append(kept.count)
                kept.append(candidate)
            }
        }
    }

    static func merge(_ a: [Clause], _ b: [Clause]) -> [Clause] {
        var out: [Clause] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count && j < b.count {
            let c = Clause.compare(a[i], b[j])
            if c < 0 {
                out.append(a[i]); i += 1
            } else if c > 0 {
                out.append(b[j]); j += 1
            } else {
                out.append(a[i]); i += 1; j += 1
            }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }
}

extension Component: Hashable {
    @inlinable
    public static func == (lhs: Component, rhs: Component) -> Bool {
        lhs.storage == rhs.storage
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage)
    }
}

extension Component: CustomStringConvertible {
    /// The canonical text form: `T`, `F`, or clauses joined by `&`.
    public var description: String { LabelPrinter.string(self) }
}
