import FileSystem
import Foundation
import Labels
import Monitor
import Sandbox
import Store

/// What to invoke, from where, as whom.
public struct InvocationRequest: Sendable {
    public enum Target: Sendable, CustomStringConvertible {
        /// A gate by path, walked in the invoker's context.
        case path(FSPath)
        /// A gate entry the caller holds.
        case gate(Entry)
        /// A gate chain already resolved (and tainted for) by the caller.
        case resolved(ResolvedGate)

        public var description: String {
            switch self {
            case let .path(path): return path.description
            case let .gate(entry): return "\(entry)"
            case let .resolved(gate): return "gate #\(gate.gate)"
            }
        }
    }

    public var target: Target
    public var startLabel: Label
    public var clearance: Label
    /// Who invokes: checked against the chain's invoker clearance, shown to the function.
    public var invoker: Privilege
    public var payload: [UInt8]
    public var blobs: [String: ExistingBlob]
    public var headers: [String: String]
    /// The calling invocation, for a call from a function.
    public var parent: String?
    /// How many calls deep (0 for a call from outside).
    public var depth: Int
    /// A synchronous call from a running function: never queued (see ``SandboxPool``).
    public var nested: Bool
    /// The integrity this request inherits from the invocation that made it, beyond what
    /// the invoker's privilege vouches for: `T` for a request from outside (it inherits
    /// nothing); for a function's call, what vouched for its caller's start label (its
    /// caller's invoker and inheritance). The start rule checks the start label's
    /// integrity against the invoker's privilege and this, so a function may pass on
    /// the integrity it was started with, and nobody can add any.
    public var inheritedIntegrity: Component
    /// For a synchronous call from a function: its caller's deadline, which the call
    /// cannot outlive.
    public var deadline: ContinuousClock.Instant?

    public init(
        target: Target, startLabel: Label = .public, clearance: Label = .top, invoker: Privilege, payload: [UInt8],
        blobs: [String: ExistingBlob] = [:], headers: [String: String] = [:], parent: String? = nil, depth: Int = 0,
        nested: Bool = false, inheritedIntegrity: Component = .true, deadline: ContinuousClock.Instant? = nil
    ) {
        self.inheritedIntegrity = inheritedIntegrity
        self.deadline = deadline
        self.target = target
        self.startLabel = startLabel
        self.clearance = clearance
        self.invoker = invoker
        self.payload = payload
        self.blobs = blobs
        self.headers = headers
        self.parent = parent
        self.depth = depth
        self.nested = nested
    }
}

/// How an invocation ended, and the label of what it reveals.
public struct InvocationResult: Sendable {
    public enum Outcome: Sendable {
        case completed(FunctionResponse)
        /// A flow rule (or an invalid request) stopped it before the function ran.
        case refused(FSError)
        /// The function ran and failed: timeout, crash, memory limit, protocol violation.
        case failed(InvocationFailure)
        /// The queue is full.
        case busy(String)
    }

    public let id: String
    public let outcome: Outcome
    /// For a completed or failed run: the final label downgraded by the gate's declassify.
    /// Otherwise: the label the invoker's context reached before the refusal. Whatever
    /// is shown of the result must pass the release check against this label.
    public let label: Label

    public init(id: String, outcome: Outcome, label: Label) {
        self.id = id
        self.outcome = outcome
        self.label = label
    }
}
