import Labels

/// The one rule for showing data to a person: data labeled `label` may be released
/// to someone holding `privilege` only if the privilege satisfies its secrecy
/// (`label ⊑ₚ T,T`). Integrity does not matter for reading.
///
/// The operator's `faasten fs` and the gateway's responses both apply it to the
/// label a computation ended at before printing or returning anything.
public enum ReleaseCheck {
    public static func check(_ label: Label, to privilege: Privilege) throws(FSError) {
        guard label.canFlow(to: .public, with: privilege) else {
            throw .cannotRelease(label: label, privilege: privilege)
        }
    }
}
