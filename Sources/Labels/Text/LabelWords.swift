/// A label in words, for people: who may read the data and who vouched for it.
///
/// ```swift
/// let label = try Label(parsing: "alice,pma")
/// LabelWords(label).description   // "readable by: alice; vouched for by: pma"
/// LabelWords(.public).description // "readable by: anyone; vouched for by: no one"
/// ```
///
/// A secrecy clause `alice|bob` is read "alice or bob"; clauses joined by `&` are all
/// needed ("alice and bob"). Integrity `T` is vouched for by no one, `F` (bottom) by
/// everyone; secrecy `T` is readable by anyone, `F` (top) by no one.
public struct LabelWords: Sendable, Equatable, CustomStringConvertible {
    /// Who may read: "alice", "alice and bob", "anyone", "no one".
    public let readers: String
    /// Who vouched: "pma", "no one", "everyone".
    public let vouchers: String

    public init(_ label: Label) {
        readers = Self.words(label.secrecy, ifTrue: "anyone", ifFalse: "no one")
        vouchers = Self.words(label.integrity, ifTrue: "no one", ifFalse: "everyone")
    }

    /// "readable by: …; vouched for by: …".
    public var description: String { "readable by: \(readers); vouched for by: \(vouchers)" }

    /// A privilege in words: whom its holder acts as ("alice", "no one", "everyone").
    public static func actingAs(_ privilege: Privilege) -> String {
        words(privilege.component, ifTrue: "no one (anonymous)", ifFalse: "everyone (root)")
    }

    /// A component's principals: clauses joined with "and", a clause's principals with
    /// "or" (in parentheses when there is more than one clause).
    public static func words(_ component: Component, ifTrue: String, ifFalse: String) -> String {
        guard let clauses = component.clauses else { return ifFalse }
        if clauses.isEmpty { return ifTrue }
        let parts = clauses.map { clause -> String in
            let names = clause.principals.map(\.description).joined(separator: " or ")
            return clauses.count > 1 && clause.principals.count > 1 ? "(\(names))" : names
        }
        return parts.joined(separator: " and ")
    }
}
