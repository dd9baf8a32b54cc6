/// A disjunction of principals, `alice | bob`, kept canonical.
///
/// Canonical means sorted, without duplicates, and without a principal that is a
/// prefix of another one in the same clause: `alice ∨ alice/photo` is the same
/// proposition as `alice/photo` (whoever speaks for `alice` speaks for
/// `alice/photo`), so only the weaker `alice/photo` is kept.
public struct Clause: Sendable {
    /// The principals, sorted, pairwise unrelated by the prefix order. Never empty.
    public let principals: [Principal]
    /// OR of the principals' bloom bits.
    @usableFromInline let ownBits: UInt64
    /// OR of the principals' prefix bloom bits: any principal that speaks for one of
    /// them has its bit in here.
    @usableFromInline let coverBits: UInt64

    /// A clause of the given principals, normalized. `nil` for an empty list, which
    /// is the empty disjunction: False.
    public init?(_ principals: [Principal]) {
        guard !principals.isEmpty else { return nil }
        self.init(sortedPrincipals: principals.sorted())
    }

    /// A clause of one principal.
    public init(_ principal: Principal) {
        self.init(canonical: [principal])
    }

    /// Normalizes a sorted, non-empty list: drops duplicates and principals that
    /// speak for (are a prefix of) another. Extensions sort directly after their
    /// prefix, so one look at the successor is enough.
    @usableFromInline init(sortedPrincipals sorted: [Principal]) {
        var kept: [Principal] = []
        kept.reserveCapacity(sorted.count)
        var index = 0
        while index < sorted.count {
            let principal = sorted[index]
            if index + 1 == sorted.count || !principal.speaks(for: sorted[index + 1]) {
                kept.append(principal)
            }
            index += 1
        }
        self.init(canonical: kept)
    }

    @usableFromInline init(canonical principals: [Principal]) {
        self.principals = principals
        var own: UInt64 = 0
        var cover: UInt64 = 0
        for principal in principals {
            own |= principal.bit
            cover |= principal.prefixBits
        }
        ownBits = own
        coverBits = cover
    }

    /// `self ⇒ other`: every principal here speaks for some principal there.
    @inlinable
    public func implies(_ other: Clause) -> Bool {
        // A principal implies one of `other`'s only if it is one of its prefixes,
        // and two principals here never share a successor (they are unrelated), so
        // an implying clause is never longer.
        if ownBits & ~other.coverBits != 0 { return false }
        if principals.count > other.principals.count { return false }
        for principal in principals {
            var found = false
            for candidate in other.principals where principal.speaks(for: candidate) {
                found = true
                break
            }
            if !found { return false }
        }
        return true
    }

    /// `self ∨ other`, canonical.
    @usableFromInline
    func or(_ other: Clause) -> Clause {
        if implies(other) { return other }
        if other.implies(self) { return self }
        var merged: [Principal] = []
        merged.reserveCapacity(principals.count + other.principals.count)
        var i = 0
        var j = 0
        while i < principals.count && j < other.principals.count {
            if principals[i] < other.principals[j] {
                merged.append(principals[i]); i += 1
            } else {
                merged.append(other.principals[j]); j += 1
            }
        }
        merged.append(contentsOf: principals[i...])
        merged.append(contentsOf: other.principals[j...])
        return Clause(sortedPrincipals: merged)
    }
}

extension Clause: Hashable, Comparable {
    @inlinable
    public static func == (lhs: Clause, rhs: Clause) -> Bool {
        lhs.ownBits == rhs.ownBits && lhs.principals == rhs.principals
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(principals)
    }

    /// Lexicographic over the sorted principals.
    public static func < (lhs: Clause, rhs: Clause) -> Bool {
        compare(lhs, rhs) < 0
    }

    @usableFromInline
    static func compare(_ lhs: Clause, _ rhs: Clause) -> Int {
        let n = Swift.min(lhs.principals.count, rhs.principals.count)
        for i in 0..<n {
            let c = compareKeys(lhs.principals[i].key, rhs.principals[i].key)
            if c != 0 { return c }
        }
        return lhs.principals.count == rhs.principals.count ? 0 : (lhs.principals.count < rhs.principals.count ? -1 : 1)
    }
}

extension Clause: CustomStringConvertible {
    /// The text form: principals joined by `|`.
    public var description: String { LabelPrinter.string(self) }
}
