import Labels

/// The one rule for showing data to a person: data labeled `label` may be released
/// to someone holding `privilege` only if the privilege satisfies its secrecy
/// (`label ⊑ₚ T,T`). Integrity does not matter for reading.
///
/// The operator's `faasten fs` and the gateway's responses both apply it to the
/// label a computation ended at before printing or returning anything.
public enum ReleaseCheck {
    public static func check(_ label: Label, to privilege: Privilege) throws(FSError) {
        guard FlowChecks.enabled else { return }
        guard label.canFlow(to: .public, with: privilege) else {
            throw .cannotRelease(label: label, privilege: privilege)
        }
    }

    /// The highest label whose release `privilege` allows: secrecy the privilege itself,
    /// integrity `T`. Every label below it passes ``check(_:to:)``.
    public static func highestReleasable(to privilege: Privilege) -> Label {
        Label(secrecy: privilege.component, integrity: .true)
    }

    /// The clearance of a person's own request (file system, blobs, links, triggers,
    /// accounts): capped at ``highestReleasable(to:)``, so that an operation that would
    /// raise the context above what may be shown to them is refused by the read rule
    /// *before* it has any effect, instead of succeeding and then being withheld. A
    /// requested clearance can only lower the cap (their greatest lower bound).
    public static func requestClearance(_ requested: Label?, for privilege: Privilege) throws(FSError) -> Label {
        let cap = highestReleasable(to: privilege)
        guard let requested else { return cap }
        do {
            return try requested.glb(cap)
        } catch {
            throw FSError(error)
        }
    }
}
