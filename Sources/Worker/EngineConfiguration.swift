import FileSystem
import Monitor

/// The invocation engine's limits and policies, with their defaults.
public struct EngineConfiguration: Sendable {
    /// Memory all sandboxes together may use (MiB); each sandbox counts its function's memory.
    public var memoryBudgetMB = 2048
    /// Invocations of one gate running at once, unless the gate says otherwise.
    public var defaultConcurrency = 8
    /// Top-level invocations accepted and waiting for a sandbox. Beyond this a new one is
    /// refused as busy (HTTP 503 with `Retry-After`) before anything is recorded; an
    /// accepted one always runs (`faasten serve --max-queued`).
    public var maxQueued = 1000
    /// Of those, how many one invoker may have waiting (`--max-queued-per-invoker`), so
    /// that one principal's flood leaves room for everyone else.
    public var maxQueuedPerInvoker = 250
    /// The share of the memory budget one invoker's running sandboxes may use while
    /// another invoker waits (alone, an invoker may use all of it).
    public var maxBudgetSharePerInvoker = 0.5
    /// Pre-started, never-used sandboxes kept per runtime.
    public var prestartedPerRuntime = 2
    /// Runtimes whose sandboxes are pre-started by ``Engine/warmUp()``; the others are
    /// pre-started after their first invocation, so that a runtime nobody uses holds no
    /// memory.
    public var prestartedAtWarmUp: Set<String> = ["python3"]
    /// Memory limit of a pre-started sandbox (MiB); functions asking for another limit get a new one.
    public var prestartedMemoryMB = 128
    /// Gates in a chain of synchronous calls (a function calling a function…).
    public var maxChainDepth = 16
    /// How far nested synchronous calls may exceed the memory budget (MiB). A caller that
    /// waits for its callee holds a sandbox, so callees never queue (queueing could
    /// deadlock): they start within budget + this, or fail at once as busy.
    public var nestedOvercommitMB = 1024
    /// Run each sandbox and the thread serving it on one CPU (see `CPUPlacement`): several
    /// times faster round trips, at the price of the kernel not moving busy sandboxes.
    public var colocateSandboxes = true
    /// Bytes of stdout and stderr kept per invocation.
    public var maxLogBytes = 64 << 10
    /// Allow services on loopback, private and link-local addresses (off: a function
    /// could otherwise reach the host's internal network through a service).
    public var allowPrivateServiceAddresses = false
    /// Time limit of one service request.
    public var serviceTimeout: Duration = .seconds(10)
    /// Largest service response kept.
    public var maxServiceResponseBytes = 8 << 20
    /// Largest result kept in an invocation record: the monitor's response limit, so
    /// every result a function may return is recorded whole (a larger one fails the
    /// invocation with the reason; none is ever dropped silently).
    public var maxRecordedResultBytes = MonitorLimits.default.maxResponseBytes
    /// Where functions' declassifications and endorsements are reported.
    public var audit: (any AuditSink)?

    public init() {}
}
