import CloudCalls
import Foundation

/// An isolated process running a guest runtime, whose only channel out is a
/// CloudCall ``FrameChannel``. Backends implement ``SandboxBackend``: bubblewrap
/// today; a microVM backend can implement the same protocol.
public protocol Sandbox: AnyObject, Sendable {
    var id: String { get }
    /// The host end of the CloudCall channel.
    var channel: FrameChannel { get }
    /// Kills everything in the sandbox and releases its resources. Safe to call twice.
    func terminate()
    /// Kills everything in the sandbox but keeps its descriptors, for a thread that may
    /// still be reading or writing its channel (which now fails at once); ``terminate()``
    /// releases them once nothing uses them. Safe to call at any time.
    func kill()
    /// Whether the kernel killed something in the sandbox for exceeding its memory limit.
    var hitMemoryLimit: Bool { get }
}

/// Starts sandboxes.
public protocol SandboxBackend: Sendable {
    /// A short name for logs and benchmarks, e.g. `bubblewrap`.
    var name: String { get }
    func launch(_ spec: SandboxSpec) throws(SandboxError) -> any Sandbox
}

/// What to run and within which limits.
public struct SandboxSpec: Sendable {
    public var runtime: GuestRuntime
    /// The function's directory on the host, mounted read-only at `/srv`.
    public var functionDirectory: String
    public var limits: ResourceLimits
    /// Size of the sandbox's private `/tmp`.
    public var temporaryBytes: Int64
    /// Where the guest's stdout and stderr go (a descriptor of this process); `nil`: discarded.
    public var output: Int32?

    public init(
        runtime: GuestRuntime, functionDirectory: String, limits: ResourceLimits = ResourceLimits(),
        temporaryBytes: Int64 = 64 << 20, output: Int32? = nil
    ) {
        self.runtime = runtime
        self.functionDirectory = functionDirectory
        self.limits = limits
        self.temporaryBytes = temporaryBytes
        self.output = output
    }
}

/// Why a sandbox could not be set up or started.
public enum SandboxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Something the host lacks (a program, a runtime file, a permission).
    case setup(String)
    /// The sandbox failed while starting.
    case launch(String)

    public var description: String {
        switch self {
        case let .setup(reason): return "sandbox setup: \(reason)"
        case let .launch(reason): return "sandbox launch: \(reason)"
        }
    }
}
