import JSONValues
import Labels

/// Who may invoke a gate and what its results release, in words: the one place `fstn
/// deploy`, `fstn gate create` and `fstn gate update` say it. Made from the object the
/// server describes (the answer to `POST` or `PATCH /v1/fs/{path}`), so it tells what
/// was stored, not what was asked for.
///
/// ```swift
/// let access = GateAccess(object: ["kind": "gate", "gate": ["privilege": "carol", "invoker_clearance": "carol", "declassify": "T"]])
/// access?.description
/// // "only holders of carol may invoke it; its results keep the secrecy of what it reads (nothing is declassified)"
/// ```
public struct GateAccess: Sendable, Equatable, CustomStringConvertible {
    /// What an invoker's privilege must imply, as the server wrote it.
    public let invokerClearance: String
    /// What results are declassified with, as the server wrote it.
    public let declassify: String

    public init(invokerClearance: String, declassify: String) {
        self.invokerClearance = invokerClearance
        self.declassify = declassify
    }

    /// From an *Object* describing a gate (its `gate` member); `nil` if it has none.
    public init?(object: JSONValue) {
        guard let gate = object["gate"], let clearance = gate["invoker_clearance"]?.string,
            let declassify = gate["declassify"]?.string
        else { return nil }
        self.init(invokerClearance: clearance, declassify: declassify)
    }

    /// Who may invoke the gate.
    public var invokers: String {
        Self.component(invokerClearance)?.isTrue == true ? "anyone may invoke it" : "only holders of \(invokerClearance) may invoke it"
    }

    /// What the gate's results release to whoever invokes it.
    public var results: String {
        let component = Self.component(declassify)
        if component?.isTrue == true { return "its results keep the secrecy of what it reads (nothing is declassified)" }
        if component?.isFalse == true {
            return "its results are declassified with F: anything the function reads can be shown to whoever invokes it"
        }
        return "its results are declassified with \(declassify): anything \(declassify) may read that the function reads "
            + "can be shown to whoever invokes it"
    }

    /// Both, as one sentence.
    public var description: String { "\(invokers); \(results)" }

    /// `text` for a person, followed on a line of its own by the access of the gate that
    /// `object` describes (nothing is added if it describes none).
    public static func following(_ text: String, object: JSONValue) -> String {
        GateAccess(object: object).map { text + "\n" + $0.description } ?? text
    }

    private static func component(_ text: String) -> Component? {
        try? Component(parsing: text)
    }
}
