import Labels
import LabelSamples
import PropertyBased

/// Parses label text in tests; a typo fails the test with the parser's reason.
func label(_ text: String) throws -> Label { try Label(parsing: text) }
func component(_ text: String) throws -> Component { try Component(parsing: text) }
func privilege(_ text: String) throws -> Privilege { try Privilege(parsing: text) }
func principal(_ tokens: String...) throws -> Principal { try Principal(tokens) }
func clause(_ principals: Principal...) -> Clause { Clause(principals)! }

/// Property-test generators over ``LabelSampler``.
enum Generators {
    static func labels(_ sampler: LabelSampler = .typical) -> Generator<Label, Shrink.None<Label>> {
        Generator { rng in sampler.label(using: &rng) }
    }

    static func components(_ sampler: LabelSampler = .typical) -> Generator<Component, Shrink.None<Component>> {
        Generator { rng in sampler.component(using: &rng) }
    }

    static func privileges(_ sampler: LabelSampler = .typical) -> Generator<Privilege, Shrink.None<Privilege>> {
        Generator { rng in sampler.privilege(using: &rng) }
    }

    static func clauses(_ sampler: LabelSampler = .typical) -> Generator<Clause, Shrink.None<Clause>> {
        Generator { rng in sampler.clause(using: &rng) }
    }
}
