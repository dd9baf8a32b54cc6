/// A Buckle label: who may read the data (secrecy) and who vouched for it (integrity).
///
/// ```swift
/// let photo = try Label(parsing: "alice,alice")       // alice's, vouched for by alice
/// let shared = try Label(parsing: "alice|bob,T")
/// shared.canFlow(to: photo)                            // true: alice may read both
/// try photo.lub(shared)                                // "alice,T"
/// ```
///
/// `L1 ⊑ L2` iff `L2.secrecy ⇒ L1.secrecy` and `L1.integrity ⇒ L2.integrity`.
/// Labels are canonical, so `==` and hashing are logical equivalence.
public struct Label: Sendable, Hashable {
    /// Who may read: a reader must own a privilege that implies it.
    public let secrecy: Component
    /// Who vouched for the data.
    public let integrity: Component

    public init(secrecy: Component, integrity: Component) {
        self.secrecy = secrecy
        self.integrity = integrity
    }

    /// `T,T`: readable by anyone, vouched for by no one.
    public static let `public` = Label(secrecy: .true, integrity: .true)
    /// `F,T`: the most secret, least trusted label; everything flows to it.
    public static let top = Label(secrecy: .false, integrity: .true)
    /// `T,F`: the least secret, most trusted label; it flows to everything.
    public static let bottom = Label(secrecy: .true, integrity: .false)

    /// `self ⊑ other`: data labeled `self` may flow to `other`.
    @inlinable
    public func canFlow(to other: Label) -> Bool {
        other.secrecy.implies(secrecy) && integrity.implies(other.integrity)
    }

    /// `self ⊑ₚ other`: the flow is allowed when `privilege` may discharge secrecy
    /// clauses of `self` and add integrity: `(other.s ∧ P) ⇒ self.s` and
    /// `(self.i ∧ P) ⇒ other.i`. `F` permits every flow; `T` is plain flow.
    @inlinable
    public func canFlow(to other: Label, with privilege: Privilege) -> Bool {
        other.secrecy.implies(secrecy, given: privilege.component)
            && integrity.implies(other.integrity, given: privilege.component)
    }

    /// The least upper bound: `(s₁ ∧ s₂, i₁ ∨ i₂)`. Refused (`label too large`) when a
    /// component of the result would exceed `limits` (see ``Component/or(_:within:)``).
    public func lub(_ other: Label, within limits: LabelLimits = .default) throws(LabelError) -> Label {
        Label(secrecy: try secrecy.and(other.secrecy, within: limits), integrity: try integrity.or(other.integrity, within: limits))
    }

    /// The greatest lower bound: `(s₁ ∨ s₂, i₁ ∧ i₂)`, within `limits`.
    public func glb(_ other: Label, within limits: LabelLimits = .default) throws(LabelError) -> Label {
        Label(secrecy: try secrecy.or(other.secrecy, within: limits), integrity: try integrity.and(other.integrity, within: limits))
    }

    /// Declassify and endorse with all of `privilege`: drop every secrecy clause the
    /// privilege discharges and add the privilege to the integrity.
    ///
    /// The secrecy is the weakest `S'` with `S' ∧ P ⇒ S`; with `P = F` the result is
    /// `T,F`, with `P = T` the label is unchanged.
    public func downgraded(with privilege: Privilege, within limits: LabelLimits = .default) throws(LabelError) -> Label {
        Label(
            secrecy: secrecy.removingClauses(dischargedBy: privilege.component),
            integrity: try privilege.component.and(integrity, within: limits))
    }

    /// Add `privilege` to the integrity (vouch for the data); secrecy unchanged.
    public func endorsed(with privilege: Privilege, within limits: LabelLimits = .default) throws(LabelError) -> Label {
        Label(secrecy: secrecy, integrity: try privilege.component.and(integrity, within: limits))
    }

    /// `target` if `self ⊑ₚ target`, else `self` unchanged (Buckle's `downgrade_to`).
    public func downgraded(to target: Label, with privilege: Privilege) -> Label {
        canFlow(to: target, with: privilege) ? target : self
    }

    /// Whether `privilege` lets the secrecy be lowered to `target`: `(target ∧ P) ⇒ self.s`.
    @inlinable
    public func canDeclassify(to target: Component, with privilege: Privilege) -> Bool {
        target.implies(secrecy, given: privilege.component)
    }

    /// This label with its secrecy replaced by `target`, if `privilege` allows it;
    /// `nil` otherwise. Integrity is kept.
    public func declassified(to target: Component, with privilege: Privilege) -> Label? {
        canDeclassify(to: target, with: privilege) ? Label(secrecy: target, integrity: integrity) : nil
    }
}

extension Label: CustomStringConvertible {
    /// The canonical text form, `secrecy,integrity`; it parses back to an equal label.
    public var description: String { LabelPrinter.string(self) }
}
