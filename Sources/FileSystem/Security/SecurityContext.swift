import Labels

/// The security state of one computation: its current label, the privilege it owns,
/// and its clearance. Every flow check of the file system is one of the three rules
/// below, and they live only here.
///
/// ```swift
/// var context = try SecurityContext(privilege: Privilege(parsing: "alice"))
/// try context.read(Label(parsing: "alice,T"))       // taints: label is now alice,T
/// try context.checkWrite(Label(parsing: "T,T"))     // allowed: alice may declassify
/// ```
///
/// A context is a value passed explicitly to each operation, never ambient state.
public struct SecurityContext: Sendable, Hashable, CustomStringConvertible {
    /// The current (floating) label: everything the computation has seen. It only grows.
    public private(set) var label: Label
    /// What the computation owns: it may declassify and endorse with it.
    public let privilege: Privilege
    /// The highest label the computation may reach; a read beyond it is refused.
    public let clearance: Label

    /// A context at `label`, owning `privilege`, bounded by `clearance` (default: top,
    /// no bound). The start label must be within the clearance.
    public init(label: Label = .public, privilege: Privilege = .none, clearance: Label = .top) throws(FSError) {
        guard label.canFlow(to: clearance) else {
            throw .invalidContext("the start label \(label) is above the clearance \(clearance)")
        }
        self.label = label
        self.privilege = privilege
        self.clearance = clearance
    }

    /// A context started from outside the platform (a request's label header, a
    /// trigger's start label, a queued request, an operator's `--start-label`): the
    /// start rule on `label`, vouched for by `vouchedBy` (default: `privilege`).
    public init(starting label: Label, privilege: Privilege, clearance: Label = .top, vouchedBy: Privilege? = nil) throws(FSError) {
        try Self.checkStart(label, vouchedBy: vouchedBy ?? privilege)
        try self.init(label: label, privilege: privilege, clearance: clearance)
    }

    /// **Start rule**: a computation may start at `label` — and a trigger, schedule or
    /// queued request may be configured to start there — only if the privilege that
    /// vouches for it implies the label's integrity. Secrecy may be raised freely (it
    /// only restricts who sees the result); integrity may not be claimed, since the
    /// write rule trusts a context's integrity as the privilege's own.
    public static func checkStart(_ label: Label, vouchedBy privilege: Privilege) throws(FSError) {
        guard FlowChecks.enabled else { return }
        guard privilege.component.implies(label.integrity) else {
            throw .cannotStart(label: label, privilege: privilege)
        }
    }

    /// **Read rule**: observing data labeled `object` raises the current label to
    /// include it. If that would take the label above the clearance, the read is
    /// refused and the label stays as it was; so is a read whose label would exceed
    /// the label limits (`label too large`).
    public mutating func read(_ object: Label) throws(FSError) {
        guard FlowChecks.enabled else { return }
        if object.canFlow(to: label) { return }  // already covered: lub would change nothing
        let raised: Label
        do {
            raised = try label.lub(object)
        } catch {
            throw FSError(error)
        }
        guard raised.canFlow(to: clearance) else {
            throw .cannotRead(object: object, current: label, clearance: clearance)
        }
        label = raised
    }

    /// **Write rule**: data at the current label may be written to an object labeled
    /// `object` only if it may flow there with the privilege. Writing does not taint.
    public func checkWrite(_ object: Label) throws(FSError) {
        guard FlowChecks.enabled else { return }
        guard label.canFlow(to: object, with: privilege) else {
            throw .cannotWrite(object: object, current: label, privilege: privilege)
        }
    }

    /// **Modify rule** (changing a directory's entries): a read, then a write check,
    /// since changing a directory also reveals what it held.
    public mutating func modify(_ object: Label) throws(FSError) {
        try read(object)
        try checkWrite(object)
    }

    /// Whether this context may hand `wanted` on (create a gate or service that runs
    /// with it): see ``checkDelegate(held:wanted:for:)``.
    public func checkDelegate(_ wanted: Component, for purpose: String) throws(FSError) {
        try Self.checkDelegate(held: privilege, wanted: wanted, for: purpose)
    }

    /// **Delegation rule**, for every way a privilege is handed on (a gate's or a
    /// service's privilege, a delegated token, a trigger, a sub-privilege, an endorsement):
    /// whoever holds `held` may hand on `wanted` only if `held ⇒ wanted`
    /// (``Privilege/canDelegate(_:)``, the one place it is decided).
    public static func checkDelegate(held: Privilege, wanted: Component, for purpose: String) throws(FSError) {
        guard FlowChecks.enabled else { return }
        guard held.canDelegate(Privilege(wanted)) else {
            throw .cannotDelegate(held: held, wanted: wanted, purpose: purpose)
        }
    }

    /// **Declassify**: lower the secrecy to `target`, allowed when the privilege covers
    /// what is dropped: `(target ∧ P) ⇒ label.secrecy`. Integrity is kept. The new
    /// label must be within the clearance.
    public mutating func declassify(to target: Component) throws(FSError) {
        guard let lowered = label.declassified(to: target, with: privilege) else {
            throw .cannotDeclassify(current: label, target: target, privilege: privilege)
        }
        guard lowered.canFlow(to: clearance) else {
            throw .cannotRead(object: lowered, current: label, clearance: clearance)
        }
        label = lowered
    }

    /// **Endorse**: vouch for the current data with `with` (default: all of the
    /// privilege), which the privilege must imply.
    public mutating func endorse(with endorsement: Privilege? = nil) throws(FSError) {
        let endorsement = endorsement ?? privilege
        try checkDelegate(endorsement.component, for: "endorse")
        let endorsed: Label
        do {
            endorsed = try label.endorsed(with: endorsement)
        } catch {
            throw FSError(error)
        }
        guard endorsed.canFlow(to: clearance) else {
            throw .cannotRead(object: endorsed, current: label, clearance: clearance)
        }
        label = endorsed
    }

    /// **Invoke rule**: a gate or service may be invoked only by a privilege that implies
    /// its (accumulated) invoker integrity clearance.
    public func checkInvoke(requiring clearance: Component) throws(FSError) {
        guard FlowChecks.enabled else { return }
        guard privilege.component.implies(clearance) else {
            throw .cannotInvoke(invoker: privilege, required: clearance)
        }
    }

    /// **Sink rule**: data at the current label may leave the system through a service
    /// owning `servicePrivilege` only if downgrading with that privilege leaves no
    /// secrecy. The downgraded label is only checked, never kept.
    public func checkSend(through servicePrivilege: Privilege) throws(FSError) {
        guard FlowChecks.enabled else { return }
        // Secrecy only: downgrading it drops clauses and cannot grow.
        guard label.secrecy.removingClauses(dischargedBy: servicePrivilege.component).isTrue else {
            throw .cannotSend(label: label, service: servicePrivilege)
        }
    }

    public var description: String { "label \(label), privilege \(privilege), clearance \(clearance)" }
}
