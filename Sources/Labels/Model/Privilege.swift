/// What a computation owns, as a component: `alice & bob` owns both principals.
///
/// `F` (``root``) owns everything; `T` (``none``) owns nothing. A privilege can be
/// handed on in weaker form: `alice` can delegate `alice/photo`, `alice | bob` or `T`,
/// but not `bob`.
///
/// ```swift
/// let alice = try Privilege(parsing: "alice")
/// alice.canDelegate(try Privilege(parsing: "alice/photo"))   // true
/// ```
public struct Privilege: Sendable, Hashable {
    /// The owned formula.
    public let component: Component

    public init(_ component: Component) {
        self.component = component
    }

    /// The privilege of one principal, which also speaks for all its extensions.
    public init(_ principal: Principal) {
        self.component = Component(principal)
    }

    /// `T`: no privilege.
    public static let none = Privilege(.true)
    /// `F`: every privilege.
    public static let root = Privilege(.false)

    /// `self ⇒ other`: the holder may hand `other` on (mint a token for it, run as it).
    public func canDelegate(_ other: Privilege) -> Bool {
        component.implies(other.component)
    }

    /// Both privileges at once (within `limits`, like every computed component).
    public func combined(with other: Privilege, within limits: LabelLimits = .default) throws(LabelError) -> Privilege {
        Privilege(try component.and(other.component, within: limits))
    }
}

extension Privilege: CustomStringConvertible {
    /// The component text: `alice&bob`, `T` or `F`.
    public var description: String { component.description }
}
