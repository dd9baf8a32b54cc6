import Labels

/// The rules of a sandbox between invocations and of an invocation's result, for every
/// runner: the engine's pool and `faasten run` both ask here.
public enum InvocationRules {
    /// **Reuse rule**: a sandbox keeps in memory what its last invocation saw, which
    /// ended at `final`; it may serve an invocation starting at `start` only if that
    /// data may flow there (`final ⊑ start`). A sandbox never used (`nil`) serves anyone.
    public static func mayReuse(sandboxAt final: Label?, for start: Label) -> Bool {
        guard FlowChecks.enabled else { return true }
        return final.map { $0.canFlow(to: start) } ?? true
    }

    /// **Result rule**: the label of what an invocation returns (its response, its
    /// failure's reason, its logs' release): the label it ended at, downgraded with the
    /// gate's declassify component (for `faasten run`, the runner's own privilege).
    /// A label beyond the limits throws: such a result is shown to nobody.
    public static func resultLabel(final: Label, declassify: Component) throws(FSError) -> Label {
        do {
            return try final.downgraded(with: Privilege(declassify))
        } catch {
            throw FSError(error)
        }
    }
}
