import LabelSamples
import Labels
import PropertyBased
import Testing

/// The lattice laws over random labels of hierarchical principals.
@Suite("Lattice laws")
struct LatticePropertyTests {
    @Test func flowIsReflexive() async {
        await propertyCheck(count: 300, input: Generators.labels()) { l in
            #expect(l.canFlow(to: l))
            #expect(l.canFlow(to: .top))
            #expect(Label.bottom.canFlow(to: l))
        }
    }

    @Test func flowIsTransitive() async {
        // Random triples rarely chain, so build b above a and c above b half the time.
        await propertyCheck(count: 500, input: Generators.labels(), Generators.labels(), Generators.labels(), Gen.bool) {
            a, x, y, chain in
            let b = try chain ? a.lub(x) : x
            let c = try chain ? b.lub(y) : y
            if a.canFlow(to: b) && b.canFlow(to: c) {
                #expect(a.canFlow(to: c), "\(a) ⊑ \(b) ⊑ \(c)")
            }
        }
    }

    @Test func flowIsAntisymmetricUpToCanonicalForm() async {
        await propertyCheck(count: 500, input: Generators.labels(), Generators.labels()) { a, b in
            let mutual = a.canFlow(to: b) && b.canFlow(to: a)
            #expect(mutual == (a == b), "\(a) vs \(b)")
            if mutual { #expect(a.hashValue == b.hashValue) }
        }
    }

    @Test func equivalentTextsGiveEqualLabels() async {
        // Shuffled, duplicated and redundant spellings of one label are one value.
        await propertyCheck(count: 300, input: Generators.labels(), Gen.int(in: 0...1_000_000)) { l, seed in
            var rng = SplitMix64(seed: UInt64(seed))
            let text = Self.redundantSpelling(l.secrecy, &rng) + "," + Self.redundantSpelling(l.integrity, &rng)
            let parsed = try Label(parsing: text)
            #expect(parsed == l, "\(text) parsed to \(parsed), expected \(l)")
            #expect(parsed.hashValue == l.hashValue)
            #expect(parsed.description == l.description)
        }
    }

    @Test func lubIsTheLeastUpperBound() async {
        await propertyCheck(count: 300, input: Generators.labels(), Generators.labels(), Generators.labels()) { a, b, c in
            let join = try a.lub(b)
            #expect(a.canFlow(to: join) && b.canFlow(to: join))
            // Least: any upper bound of both is above the join. Make c one half the time.
            for upper in [c, try c.lub(a).lub(b)] where a.canFlow(to: upper) && b.canFlow(to: upper) {
                #expect(join.canFlow(to: upper), "lub(\(a), \(b)) = \(join) ⋢ \(upper)")
            }
            // Exact as formulas: secrecy is s₁ ∧ s₂ and integrity i₁ ∨ i₂ in every model.
            let s = SemanticOracle([a.secrecy, b.secrecy, join.secrecy])
            #expect(s.agrees(join.secrecy, with: a.secrecy, b.secrecy) { $0 && $1 })
            let i = SemanticOracle([a.integrity, b.integrity, join.integrity])
            #expect(i.agrees(join.integrity, with: a.integrity, b.integrity) { $0 || $1 }, "\(a.integrity) ∨ \(b.integrity) ≠ \(join.integrity)")
        }
    }

    @Test func glbIsTheGreatestLowerBound() async {
        await propertyCheck(count: 300, input: Generators.labels(), Generators.labels(), Generators.labels()) { a, b, c in
            let meet = try a.glb(b)
            #expect(meet.canFlow(to: a) && meet.canFlow(to: b))
            for lower in [c, try c.glb(a).glb(b)] where lower.canFlow(to: a) && lower.canFlow(to: b) {
                #expect(lower.canFlow(to: meet), "\(lower) ⋢ glb(\(a), \(b)) = \(meet)")
            }
            let s = SemanticOracle([a.secrecy, b.secrecy, meet.secrecy])
            #expect(s.agrees(meet.secrecy, with: a.secrecy, b.secrecy) { $0 || $1 })
            let i = SemanticOracle([a.integrity, b.integrity, meet.integrity])
            #expect(i.agrees(meet.integrity, with: a.integrity, b.integrity) { $0 && $1 })
        }
    }

    @Test func lubAndGlbAreCommutativeAssociativeIdempotentAndAbsorb() async {
        await propertyCheck(count: 200, input: Generators.labels(), Generators.labels(), Generators.labels()) { a, b, c throws in
            #expect(try a.lub(b) == b.lub(a))
            #expect(try a.glb(b) == b.glb(a))
            #expect(try a.lub(b).lub(c) == a.lub(b.lub(c)))
            #expect(try a.glb(b).glb(c) == a.glb(b.glb(c)))
            #expect(try a.lub(a) == a && a.glb(a) == a)
            #expect(try a.lub(a.glb(b)) == a)
            #expect(try a.glb(a.lub(b)) == a)
            #expect(try a.canFlow(to: b) == (a.lub(b) == b))
        }
    }

    @Test func implicationAgreesWithTheSemantics() async {
        await propertyCheck(count: 500, input: Generators.components(), Generators.components()) { a, b in
            let oracle = SemanticOracle([a, b])
            #expect(a.implies(b) == oracle.implies(a, b), "\(a) ⇒ \(b)")
        }
    }

    @Test func conjunctionAndDisjunctionAreExact() async {
        await propertyCheck(count: 300, input: Generators.components(), Generators.components()) { a, b in
            let and = try a.and(b)
            let or = try a.or(b)
            let oracle = SemanticOracle([a, b, and, or])
            #expect(oracle.agrees(and, with: a, b) { $0 && $1 }, "\(a) ∧ \(b) = \(and)")
            #expect(oracle.agrees(or, with: a, b) { $0 || $1 }, "\(a) ∨ \(b) = \(or)")
        }
    }

    @Test func componentsAreCanonical() async {
        await propertyCheck(count: 300, input: Generators.components()) { c in
            guard let clauses = c.clauses else { return }
            #expect(clauses == clauses.sorted())
            for (i, x) in clauses.enumerated() {
                #expect(!x.principals.isEmpty)
                #expect(x.principals == x.principals.sorted())
                for (j, y) in clauses.enumerated() where i != j { #expect(!x.implies(y)) }
                for (k, p) in x.principals.enumerated() {
                    for (m, q) in x.principals.enumerated() where k != m { #expect(!p.speaks(for: q)) }
                }
            }
            #expect(Component(clauses: clauses) == c)
        }
    }

    // MARK: Privileges

    @Test func morePrivilegeNeverPermitsFewerFlows() async {
        await propertyCheck(
            count: 500, input: Generators.labels(), Generators.labels(), Generators.privileges(), Generators.privileges()
        ) { a, b, p, q in
            let stronger = try p.combined(with: q)  // stronger ⇒ p
            if a.canFlow(to: b) { #expect(a.canFlow(to: b, with: p)) }
            if a.canFlow(to: b, with: p) { #expect(a.canFlow(to: b, with: stronger)) }
            if q.canDelegate(p), a.canFlow(to: b, with: p) { #expect(a.canFlow(to: b, with: q)) }
        }
    }

    @Test func falsePermitsEveryFlowAndTrueIsPlainFlow() async {
        await propertyCheck(count: 500, input: Generators.labels(), Generators.labels()) { a, b in
            #expect(a.canFlow(to: b, with: .root))
            #expect(a.canFlow(to: b, with: .none) == a.canFlow(to: b))
        }
    }

    @Test func privilegedFlowMatchesItsDefinition() async {
        await propertyCheck(count: 500, input: Generators.labels(), Generators.labels(), Generators.privileges()) { a, b, p in
            let bySpec = try b.secrecy.and(p.component).implies(a.secrecy) && a.integrity.and(p.component).implies(b.integrity)
            #expect(a.canFlow(to: b, with: p) == bySpec)
        }
    }

    // MARK: Downgrade and endorse

    @Test func downgradeLaws() async {
        await propertyCheck(count: 500, input: Generators.labels(), Generators.privileges(), Generators.components()) { l, p, s in
            let d = try l.downgraded(with: p)
            #expect(try l.downgraded(with: .none) == l)
            #expect(try l.downgraded(with: .root) == .bottom)
            // The downgrade is reachable with the privilege, and no lower secrecy is.
            #expect(l.canFlow(to: d, with: p))
            #expect(try d.secrecy.and(p.component).implies(l.secrecy))
            if try s.and(p.component).implies(l.secrecy) {
                #expect(s.implies(d.secrecy), "\(s) declassifies \(l) with \(p) but is below \(d)")
            }
            #expect(try d.integrity == l.integrity.and(p.component))
            // downgrade_to(L, (L.s, L.i ∧ P), P) == endorse(L, P)
            let target = try Label(secrecy: l.secrecy, integrity: l.integrity.and(p.component))
            #expect(try l.downgraded(to: target, with: p) == l.endorsed(with: p))
        }
    }

    @Test func endorseLaws() async {
        await propertyCheck(count: 300, input: Generators.labels(), Generators.privileges()) { l, p in
            let e = try l.endorsed(with: p)
            #expect(e.secrecy == l.secrecy)
            #expect(e.canFlow(to: l))
            #expect(l.canFlow(to: e, with: p))
            #expect(try l.endorsed(with: .none) == l)
            #expect(try e.endorsed(with: p) == e)
        }
    }

    @Test func declassifyAllowsExactlyWhatThePrivilegeDischarges() async {
        await propertyCheck(count: 500, input: Generators.labels(), Generators.components(), Generators.privileges()) { l, t, p in
            let allowed = try t.and(p.component).implies(l.secrecy)
            #expect(l.canDeclassify(to: t, with: p) == allowed)
            #expect((l.declassified(to: t, with: p) != nil) == allowed)
            if let result = l.declassified(to: t, with: p) {
                #expect(result.integrity == l.integrity && result.secrecy == t)
                #expect(l.canFlow(to: result, with: p))
            }
        }
    }

    /// Writes a component with shuffled clauses and principals, repeated clauses,
    /// clauses weakened by an extra principal, and principals next to their prefixes.
    static func redundantSpelling(_ c: Component, _ rng: inout SplitMix64) -> String {
        guard let clauses = c.clauses else { return "F" }
        if clauses.isEmpty { return "T" }
        var written: [String] = []
        for clause in clauses {
            var principals = clause.principals.map(\.description)
            if Bool.random(using: &rng), let first = clause.principals.first {
                // A prefix beside its extension adds nothing: p ∨ p/x ≡ p/x.
                let tokens = first.tokens
                if tokens.count > 1 { principals.append(try! Principal(Array(tokens.dropLast())).description) }
            }
            principals.shuffle(using: &rng)
            written.append(principals.joined(separator: "|"))
            if Bool.random(using: &rng) { written.append(principals.reversed().joined(separator: "|")) }
            if Bool.random(using: &rng) { written.append(principals.joined(separator: "|") + "|zed/extra") }
        }
        written.shuffle(using: &rng)
        return written.joined(separator: "&")
    }
}
