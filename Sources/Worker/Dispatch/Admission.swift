import FileSystem
import Labels
import Store

/// The checks before any function of a gate runs, in one place for the worker that
/// runs it, the cluster gateway that queues it and the cluster worker that claims it:
/// the start rule on the start label, the gate resolved in the invoker's context
/// (every directory and gate on the way lifts the start label), the invoke rule, the
/// chain's depth.
public enum Admission {
    /// A request that may run: its gate, the invoker's lifted context, and the context
    /// the function starts in (the gate's privilege from the lifted label).
    public struct Admitted: Sendable {
        public let gate: ResolvedGate
        public let invokerContext: SecurityContext
        public let functionContext: SecurityContext
    }

    /// A refusal, and the label the invoker's context had reached (what the refusal
    /// itself reveals).
    public struct Refusal: Error, Sendable {
        public let error: FSError
        public let label: Label
    }

    /// Resolves and checks `request` in `fileSystem`.
    public static func admit(
        _ request: InvocationRequest, in fileSystem: FileSystem, maxChainDepth: Int
    ) async -> Result<Admitted, Refusal> {
        var context: SecurityContext
        do {
            context = try startContext(request)
        } catch {
            return .failure(Refusal(error: error, label: request.startLabel))
        }
        let resolved: ResolvedGate
        do {
            switch request.target {
            case let .path(path):
                resolved = try await fileSystem.transaction(.read, &context) { session, context throws(FSError) in
                    try session.resolveGate(try session.resolve(path, &context), &context)
                }
            case let .gate(entry):
                resolved = try await fileSystem.transaction(.read, &context) { session, context throws(FSError) in
                    try session.resolveGate(entry, &context)
                }
            case let .resolved(gate):
                resolved = gate
            }
        } catch {
            return .failure(Refusal(error: error, label: context.label))
        }
        do throws(FSError) {
            try authorize(resolved, context, depth: request.depth, maxChainDepth: maxChainDepth)
            let functionContext = try SecurityContext(
                label: context.label, privilege: resolved.privilege, clearance: request.clearance)
            return .success(Admitted(gate: resolved, invokerContext: context, functionContext: functionContext))
        } catch {
            return .failure(Refusal(error: error, label: context.label))
        }
    }

    /// The invoker's context at the request's start label, after the start rule: the
    /// label's integrity must be vouched for by the invoker's privilege and what the
    /// request inherits from the invocation that made it. A request from outside (no
    /// parent) inherits nothing, whatever it says: a queued row cannot add integrity by
    /// claiming an inheritance.
    static func startContext(_ request: InvocationRequest) throws(FSError) -> SecurityContext {
        var vouch = request.invoker
        if request.parent != nil && !request.inheritedIntegrity.isTrue {
            do {
                vouch = try request.invoker.combined(with: Privilege(request.inheritedIntegrity))
            } catch {
                throw FSError(error)
            }
        }
        return try SecurityContext(starting: request.startLabel, privilege: request.invoker, clearance: request.clearance, vouchedBy: vouch)
    }

    /// The invoke rule (the invoker's privilege implies the chain's invoker clearance)
    /// and the chain's depth: checked before any function of `gate` runs, and by a
    /// calling function before it may queue an asynchronous call.
    public static func authorize(_ gate: ResolvedGate, _ context: SecurityContext, depth: Int, maxChainDepth: Int) throws(FSError) {
        try context.checkInvoke(requiring: gate.invokerIntegrityClearance)
        guard depth <= maxChainDepth else {
            throw .limitExceeded("gates in a chain of calls", limit: maxChainDepth)
        }
    }
}
