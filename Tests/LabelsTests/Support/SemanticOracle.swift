import Labels

/// An independent, semantic reading of components, to check the syntactic algebra.
///
/// A model is a set of principals closed upwards under extension (if `alice` holds,
/// `alice/photo` holds), given by generators. A clause holds if one of its principals
/// holds; a component if all its clauses do; False never. The prefix test here works
/// on token lists, not on the library's byte keys.
///
/// For a clause `c` over the atoms in play, the model of every atom that does not
/// speak for a principal of `c` is the one place where `c` fails while as much else as
/// possible holds; intersections of two such models do the same for `c₁ ∨ c₂`. Two
/// monotone CNF formulas over these atoms are equivalent iff they agree on all of them,
/// so these "critical models" make the checks below complete, not just sampled.
struct SemanticOracle {
    let atoms: [[String]]
    let models: [[[String]]]

    /// An oracle for formulas over the principals of `components`.
    init(_ components: [Component]) {
        var atoms: [[String]] = []
        var clauses: [[[String]]] = []
        for component in components {
            for clause in component.clauses ?? [] {
                let tokens = clause.principals.map(\.tokens)
                clauses.append(tokens)
                for atom in tokens where !atoms.contains(atom) { atoms.append(atom) }
            }
        }
        self.atoms = atoms
        func critical(_ clause: [[String]]) -> Set<[String]> {
            Set(atoms.filter { atom in !clause.contains { SemanticOracle.isPrefix(atom, of: $0) } })
        }
        let singles = clauses.map(critical)
        var models: Set<Set<[String]>> = [Set(atoms), []]
        for (i, first) in singles.enumerated() {
            models.insert(first)
            for second in singles[i...] { models.insert(first.intersection(second)) }
        }
        self.models = models.map { Array($0) }
    }

    static func isPrefix(_ prefix: [String], of tokens: [String]) -> Bool {
        prefix.count <= tokens.count && Array(tokens.prefix(prefix.count)) == prefix
    }

    static func holds(_ principal: [String], in model: [[String]]) -> Bool {
        model.contains { isPrefix($0, of: principal) }
    }

    static func evaluate(_ component: Component, in model: [[String]]) -> Bool {
        guard let clauses = component.clauses else { return false }
        return clauses.allSatisfy { clause in clause.principals.contains { holds($0.tokens, in: model) } }
    }

    /// `a ⇒ b` in every model.
    func implies(_ a: Component, _ b: Component) -> Bool {
        models.allSatisfy { !SemanticOracle.evaluate(a, in: $0) || SemanticOracle.evaluate(b, in: $0) }
    }

    /// `result` has the truth value `combine(a, b)` in every model.
    func agrees(_ result: Component, with a: Component, _ b: Component, _ combine: (Bool, Bool) -> Bool) -> Bool {
        models.allSatisfy { model in
            SemanticOracle.evaluate(result, in: model)
                == combine(SemanticOracle.evaluate(a, in: model), SemanticOracle.evaluate(b, in: model))
        }
    }
}
