import Labels
import Testing

/// Every computed label stays within the limits untrusted input is held to: a result
/// beyond them is refused (`label too large`), before the work grows.
@Suite("Bounded lattice operations")
struct BoundedAlgebraTests {
    /// `p1 & p2 & … & pN`, or with `|` between principals: `p1|…|pN`.
    static func component(_ prefix: String, _ count: Int, joined separator: String = "&") throws -> Component {
        try Component(parsing: (1...count).map { "\(prefix)\($0)" }.joined(separator: separator))
    }

    @Test func resultsAtTheLimitsAreComputedAndBeyondThemRefused() throws {
        // 8 × 8 clauses: exactly 64, the limit.
        let at = try Self.component("p", 8).or(Self.component("q", 8))
        #expect(at.clauses?.count == 64)
        #expect(throws: LabelError.tooLarge(.clauses, limit: 64)) { try Self.component("p", 9).or(Self.component("q", 8)) }
        // One clause of 8 + 8 principals is within 16; 9 + 8 is not.
        #expect(try Self.component("p", 8, joined: "|").or(Self.component("q", 8, joined: "|")).clauses?.first?.principals.count == 16)
        #expect(throws: LabelError.tooLarge(.principalsPerClause, limit: 16)) {
            try Self.component("p", 9, joined: "|").or(Self.component("q", 8, joined: "|"))
        }
        // Conjunction adds clauses.
        #expect(try Self.component("p", 32).and(Self.component("q", 32)).clauses?.count == 64)
        #expect(throws: LabelError.tooLarge(.clauses, limit: 64)) { try Self.component("p", 33).and(Self.component("q", 32)) }
    }

    @Test func aLargeProductThatReducesIsNotRefused() throws {
        // Every clause of b implies a clause of a: a ∨ b = a, found before any distribution.
        let a = try Self.component("p", 64)
        let b = try Component(parsing: (1...64).map { "p\($0)|x" }.joined(separator: "&"))
        #expect(try a.or(b) == b)
        // A product of 4096 clauses that collapses: (p1&…&p64) ∨ (p1) = p1.
        #expect(try a.or(Component(parsing: "p1")) == (try Component(parsing: "p1")))
    }

    @Test func theWorstCaseWithinTheLimitsEndsAtOnce() throws {
        // Two components at the limits (64 clauses of 16 principals): the disjunction
        // would have 4096 clauses of 32 principals, and is refused after a few.
        func worst(_ prefix: String) throws -> Component {
            try Component(parsing: (1...64).map { c in (1...16).map { "\(prefix)\(c)/\($0)" }.joined(separator: "|") }.joined(separator: "&"))
        }
        let a = try worst("a")
        let b = try worst("b")
        let started = ContinuousClock.now
        #expect(throws: LabelError.self) { try Label(secrecy: .true, integrity: a).lub(Label(secrecy: .true, integrity: b)) }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func repeatedTaintsCannotGrowALabel() throws {
        // The attack that kept a monitor busy for a minute: each lub multiplied the
        // integrity's clauses. Now the first one that would exceed the limits is refused.
        var label = Label(secrecy: .true, integrity: try Self.component("p", 40))
        var refused = 0
        for round in 1...3 {
            let taint = Label(secrecy: .true, integrity: try Self.component("r\(round)q", 40))
            do {
                label = try label.lub(taint)
            } catch {
                #expect(error == .tooLarge(.clauses, limit: 64))
                refused += 1
            }
        }
        #expect(refused == 3)
        #expect(label.integrity.clauses?.count == 40)
        #expect("\(LabelError.tooLarge(.clauses, limit: 64))".hasPrefix("label too large"))
    }

    @Test func endorsementAndDowngradeAreBoundedToo() throws {
        let wide = Label(secrecy: .true, integrity: try Self.component("p", 60))
        #expect(throws: LabelError.self) { try wide.endorsed(with: Privilege(try Self.component("q", 10))) }
        #expect(throws: LabelError.self) { try wide.downgraded(with: Privilege(try Self.component("q", 10))) }
        #expect(throws: LabelError.self) { try Privilege(try Self.component("p", 40)).combined(with: Privilege(try Self.component("q", 40))) }
    }
}
