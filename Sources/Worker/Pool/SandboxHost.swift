import FileSystem
import Foundation
import Labels
import Monitor
import Processes
import Sandbox
import Store

/// One sandbox as the pool keeps it: the sandbox, its monitor, the thread that serves
/// it, its captured output, and the label of everything it has seen.
final class SandboxHost: @unchecked Sendable {
    let sandbox: any Sandbox
    let monitor: Monitor
    let runtime: String
    /// Memory counted against the budget (MiB): the sandbox's limit.
    let memoryMB: Int
    /// For a pre-started sandbox: the host directory bound at `/srv`, filled when assigned.
    let slot: String?
    /// The CPU it and its thread run on, and where that was decided.
    private let cpu: Int?
    private let placement: CPUPlacement?
    private let thread: SandboxThread
    private let logs: LogCollector
    private let lock = NSLock()
    private var state = State()

    struct State {
        /// The function it runs, once assigned.
        var key: SandboxPool.Key?
        /// The final label of the last invocation it served (`nil`: never used).
        var label: Label?
        var lastUsed = ContinuousClock.now
        /// Cut off at a deadline while its monitor was still serving a call: killed, never reused.
        var abandoned = false
    }

    var abandoned: Bool {
        get { lock.withLock { state.abandoned } }
        set { lock.withLock { state.abandoned = newValue } }
    }

    var key: SandboxPool.Key? {
        get { lock.withLock { state.key } }
        set { lock.withLock { state.key = newValue } }
    }

    var label: Label? {
        get { lock.withLock { state.label } }
        set { lock.withLock { state.label = newValue } }
    }

    var lastUsed: ContinuousClock.Instant {
        get { lock.withLock { state.lastUsed } }
        set { lock.withLock { state.lastUsed = newValue } }
    }

    /// Launches a sandbox for `runtime` with the function at `directory`, and completes
    /// its handshake. Blocking.
    static func launch(
        backend: any SandboxBackend, runtime: GuestRuntime, directory: String, slot: String?, memoryMB: Int,
        fileSystem: FileSystem, logLimit: Int, placement: CPUPlacement?
    ) throws -> SandboxHost {
        let cpu = placement?.take()
        let logs = try LogCollector(limit: logLimit)
        let spec = SandboxSpec(
            runtime: runtime, functionDirectory: directory,
            limits: ResourceLimits(memoryBytes: Int64(memoryMB) << 20), output: logs.writeEnd)
        let sandbox: any Sandbox
        do {
            // The sandbox inherits the launching thread's CPUs.
            sandbox = try cpu.map { cpu in try ThreadAffinity.with([cpu]) { try backend.launch(spec) } } ?? backend.launch(spec)
        } catch {
            logs.close()
            if let cpu { placement?.give(cpu) }
            throw error
        }
        // The sandbox has its own copy of the log pipe's write end.
        let monitor = Monitor(channel: sandbox.channel, fileSystem: fileSystem)
        do {
            try monitor.handshake()
        } catch {
            sandbox.terminate()
            logs.close()
            if let cpu { placement?.give(cpu) }
            throw error
        }
        return SandboxHost(
            sandbox: sandbox, monitor: monitor, runtime: runtime.name, memoryMB: memoryMB, slot: slot, logs: logs, cpu: cpu,
            placement: placement)
    }

    private init(
        sandbox: any Sandbox, monitor: Monitor, runtime: String, memoryMB: Int, slot: String?, logs: LogCollector, cpu: Int?,
        placement: CPUPlacement?
    ) {
        self.sandbox = sandbox
        self.monitor = monitor
        self.runtime = runtime
        self.memoryMB = memoryMB
        self.slot = slot
        self.logs = logs
        self.cpu = cpu
        self.placement = placement
        thread = SandboxThread(name: "faasten-sandbox-\(sandbox.id)", cpu: cpu)
    }

    /// Serves one invocation on the sandbox's thread; returns the outcome and the output
    /// written during it.
    ///
    /// The deadline holds whatever the monitor is doing: if the monitor is still busy
    /// with a call shortly after the deadline (a nested call, a service, a slow store),
    /// the sandbox is killed and the invocation ends as `timeout` at once, labeled with
    /// its context as of its last finished call; the host is abandoned (its thread
    /// finishes the call alone and stops), so the worker goes on serving others.
    func serve(
        _ request: GuestRequest, context: SecurityContext, deadline: ContinuousClock.Instant,
        invoker: (any GuestInvoker)?
    ) async -> (GuestOutcome, [UInt8]) {
        let monitor = monitor
        let logs = logs
        let sandbox = sandbox
        let progress = ContextProgress(context)
        let first = FirstResult<(GuestOutcome, [UInt8])>()
        do {
            return try await withCheckedThrowingContinuation { continuation in
                first.set(continuation)
                // The monitor's own waits end at the deadline; this is for a monitor stuck in a call.
                let cutoff = DeadlineWatchdog.shared.watch(until: deadline + Self.cutoffGrace) {
                    first.finish {
                        self.abandoned = true
                        // Killed, not released: the monitor's thread may still be using the channel.
                        sandbox.kill()
                        return .success((GuestOutcome(status: .failed(.timeout), context: progress.context), logs.take()))
                    }
                }
                thread.submit {
                    var outcome = monitor.serve(request, context: context, deadline: deadline, invoker: invoker, progress: progress)
                    if case .failed(.guestExited) = outcome.status, sandbox.hitMemoryLimit {
                        outcome = GuestOutcome(status: .failed(.memoryLimit), context: outcome.context)
                    }
                    DeadlineWatchdog.shared.cancel(cutoff)
                    first.finish(.success((outcome, logs.take())))
                }
            }
        } catch {
            return (GuestOutcome(status: .failed(.sandbox("\(error)")), context: progress.context), [])
        }
    }

    /// How long after its deadline a monitor still busy with a call is cut off (plus up
    /// to the watchdog's period).
    static let cutoffGrace: Duration = .milliseconds(30)

    /// Kills the sandbox and frees what it held. Blocking; call off the pool's actor. The
    /// thread stops after the job it is running, if any.
    func terminate() {
        sandbox.kill()
        // The channel's descriptors are released only once the thread no longer uses them.
        thread.stopAndWait()
        sandbox.terminate()
        logs.close()
        if let cpu { placement?.give(cpu) }
        if let slot { try? FileManager.default.removeItem(atPath: slot) }
    }
}
