import Labels
import Testing

/// Every example and law that faasten-reference.md §1.2–§1.8 states, as fixed cases.
@Suite("Reference examples")
struct ReferenceExamplesTests {
    // MARK: §1.2 clauses

    @Test func clauseImplicationFollowsThePrefixRule() throws {
        let alice = try principal("alice"), yue = try principal("yue"), amit = try principal("amit")
        let photo = try principal("alice", "photo")
        #expect(clause(alice).implies(clause(alice)))
        #expect(clause(alice).implies(clause(alice, yue)))
        #expect(clause(alice).implies(clause(photo)))
        #expect(!clause(alice, yue).implies(clause(alice)))
        #expect(!clause(photo).implies(clause(alice)))
        #expect(try clause(principal("yue")).implies(clause(principal("yue", "hello"))))
        // [amit] ⇏ ∅: the empty disjunction is False, which only False implies.
        #expect(Clause([]) == nil)
        #expect(!Component(amit).implies(Component([[]])))
        #expect(Component([[]]) == .false)
    }

    @Test func clauseSubsetImpliesSuperset() throws {
        let a = try principal("a"), b = try principal("b"), c = try principal("c")
        #expect(clause(a, b).implies(clause(a, b, c)))
        #expect(!clause(a, b, c).implies(clause(a, b)))
    }

    // MARK: §1.3 components

    @Test func componentImplicationEdgeCases() throws {
        let x = try component("x&y|z")
        #expect(x.implies(x))
        #expect(Component.false.implies(x))
        #expect(Component.false.implies(.false))
        #expect(x.implies(.true))
        #expect(Component.false.implies(.true))
        #expect(!Component.true.implies(x))
        #expect(!x.implies(.false))
        #expect(!Component.true.implies(.false))
        #expect(try component("a&b").implies(component("b")))
    }

    @Test func reduceDropsTheImpliedClause() throws {
        #expect(try component("amit|yue&yue") == component("yue"))
        #expect(try component("amit|yue&yue").description == "yue")
        // After reduce no clause implies another.
        let reduced = try component("a|b&a|b|c&b&c|d/e&c|d")
        let clauses = reduced.clauses ?? []
        for (i, first) in clauses.enumerated() {
            for (j, second) in clauses.enumerated() where i != j {
                #expect(!first.implies(second), "\(first) implies \(second) in \(reduced)")
            }
        }
    }

    @Test func disjunctionDistributesFully() throws {
        // The reference's unit test, where the original was already right:
        #expect(try component("amit&david").or(component("yue")) == component("amit|yue&david|yue"))
        // And the case the original over-approximated as (A∨C∨D)∧(B∨C∨D):
        #expect(try component("A&B").or(component("C&D")) == component("A|C&A|D&B|C&B|D"))
        #expect(try component("A&B").or(component("C&D")) != component("A|C|D&B|C|D"))
    }

    // MARK: §1.4 labels

    @Test func extremesAreOrdered() {
        #expect(Label.bottom.canFlow(to: .top))
        #expect(Label.bottom.canFlow(to: .public))
        #expect(Label.public.canFlow(to: .top))
        #expect(!Label.top.canFlow(to: .bottom))
        #expect(!Label.public.canFlow(to: .bottom))
        #expect(!Label.top.canFlow(to: .public))
    }

    @Test func lubAndGlbOfExtremes() throws {
        #expect(try Label.bottom.lub(.public) == .public)
        #expect(try Label.public.lub(.top) == .top)
        #expect(try Label.bottom.lub(.top) == .top)
        #expect(try Label.public.glb(.top) == .public)
        #expect(try Label.bottom.glb(.top) == .bottom)
        #expect(try Label.bottom.glb(.public) == .bottom)
    }

    @Test func lubAndGlbOfPrincipals() throws {
        #expect(try label("amit,T").lub(label("yue,T")) == label("amit&yue,T"))
        #expect(try label("T,amit").lub(label("T,yue")) == label("T,amit|yue"))
        #expect(try label("amit,T").glb(label("yue,T")) == label("amit|yue,T"))
        #expect(try label("T,amit").glb(label("T,yue")) == label("T,amit&yue"))
    }

    @Test func integrityAndSecrecyOrder() throws {
        #expect(try label("T,amit&yue").canFlow(to: label("T,amit")))
        #expect(try !label("T,amit|yue").canFlow(to: label("T,amit&yue")))
        #expect(try label("amit|yue,T").canFlow(to: label("amit&yue,T")))
        #expect(try !label("amit&yue,T").canFlow(to: label("amit,T")))
    }

    // MARK: §1.5 privileges

    @Test func goGraderPrivilegeExamples() throws {
        let p = try privilege("go_grader")
        #expect(try label("go_grader,go_grader").canFlow(to: label("T,go_grader"), with: p))
        #expect(try label("go_grader&bob,T").canFlow(to: label("bob,T"), with: p))
        #expect(try label("go_grader/staff&go_grader/alice&bob,T").canFlow(to: label("bob,T"), with: p))
        #expect(try !label("go_grader&staff&bob,T").canFlow(to: label("bob,T"), with: p))
        #expect(try label("bob,T").canFlow(to: label("bob,go_grader"), with: p))
        // And without the privilege none of the discharging flows hold.
        #expect(try !label("go_grader&bob,T").canFlow(to: label("bob,T")))
        #expect(try !label("bob,T").canFlow(to: label("bob,go_grader")))
    }

    @Test func delegation() throws {
        let alice = try privilege("alice")
        #expect(try alice.canDelegate(privilege("alice/photo")))
        #expect(try alice.canDelegate(privilege("alice|bob")))
        #expect(alice.canDelegate(.none))
        #expect(try !alice.canDelegate(privilege("bob")))
        #expect(try !privilege("alice/photo").canDelegate(alice))
        #expect(Privilege.root.canDelegate(alice))
        #expect(!Privilege.none.canDelegate(alice))
    }

    @Test func downgradeExamples() throws {
        let aalevy = try privilege("princeton.edu/aalevy")
        #expect(try label("princeton.edu/aalevy,T").downgraded(with: aalevy) == label("T,princeton.edu/aalevy"))
        // P = alice removes alice, alice/photo and alice ∨ bob, but not bob.
        #expect(try label("alice&alice/photo&alice|bob&bob,T").downgraded(with: privilege("alice"))
            == label("bob,alice"))
        for text in ["alice,bob", "T,T", "F,T", "T,F", "a|b&c,d/e"] {
            let l = try label(text)
            #expect(try l.downgraded(with: .none) == l)
            #expect(try l.downgraded(with: .root) == .bottom)
        }
        #expect(try label("F,x").downgraded(with: privilege("alice")) == label("F,alice&x"))
    }

    @Test func downgradeToAndEndorse() throws {
        let p = try privilege("alice")
        let l = try label("alice&bob,carol")
        #expect(try l.downgraded(to: Label(secrecy: l.secrecy, integrity: l.integrity.and(p.component)), with: p)
            == (try l.endorsed(with: p)))
        #expect(try l.endorsed(with: p) == (try label("alice&bob,alice&carol")))
        #expect(l.downgraded(to: try label("bob,carol"), with: p) == (try label("bob,carol")))
        #expect(l.downgraded(to: try label("T,carol"), with: p) == l)  // bob cannot be dropped
    }

    @Test func declassifyToTarget() throws {
        let p = try privilege("alice")
        let l = try label("alice&bob,carol")
        #expect(try l.canDeclassify(to: component("bob"), with: p))
        #expect(try l.declassified(to: component("bob"), with: p) == label("bob,carol"))
        #expect(try !l.canDeclassify(to: component("alice"), with: p))
        #expect(l.declassified(to: .true, with: p) == nil)
        #expect(l.declassified(to: .true, with: .root) == (try label("T,carol")))
    }

    // MARK: §1.6 parser examples

    @Test(arguments: [
        ("T,T", "T,T"), ("T,F", "T,F"), ("F,T", "F,T"), ("Amit,Yue", "Amit,Yue"),
        ("Amit|Yue,Yue", "Amit|Yue,Yue"),
        ("Amit&Yue|Natalie|Gongqi&Deian,Yue", "Amit&Deian&Gongqi|Natalie|Yue,Yue"),
        ("Am\\&it&Yue,Y\\|ue", "Am\\&it&Yue,Y\\|ue"),
        ("princeton.edu/test,Amit", "princeton.edu/test,Amit"),
        ("Tom,Fred", "Tom,Fred"), ("x,Tom", "x,Tom"),
    ])
    func parserExamples(input: String, canonical: String) throws {
        #expect(try label(input).description == canonical)
    }

    @Test func parserTokens() throws {
        let l = try label("Am\\&it&Yue,Y\\|ue")
        let secrecy = l.secrecy.clauses?.flatMap { $0.principals.map(\.tokens) }
        #expect(secrecy == [["Am&it"], ["Yue"]])
        #expect(l.integrity.clauses?.first?.principals.first?.tokens == ["Y|ue"])
        #expect(try label("Amit&Yue|Natalie|Gongqi&Deian,Yue").secrecy.clauses?.count == 3)
        #expect(try label("x,Tom").integrity != .true)
    }
}
