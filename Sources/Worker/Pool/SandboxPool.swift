import FileSystem
import Foundation
import Labels
import Store

/// Which sandbox an invocation gets, and when.
///
/// - A sandbox that finished an invocation is kept warm with that invocation's
///   **final** label, under (runtime, image), and given only to an invocation of the
///   same image whose start label that label flows to: state it kept can only go
///   where its data may go. A gate in `fresh` mode never reuses one.
/// - Otherwise a clean sandbox: a pre-started, never-used one of the runtime (which
///   has seen nothing), or a new one.
/// - Sandboxes share a memory budget; idle ones are evicted least recently used first.
///   Each gate has a concurrency limit; top-level invocations that cannot start wait
///   in a bounded queue (full: busy).
/// - A synchronous call from a running function (`nested`) never waits: its caller
///   holds a sandbox while waiting for it, so queueing could deadlock. It may exceed
///   the budget by `nestedOvercommitMB` and ignores the gate's concurrency limit;
///   beyond that it fails at once as busy, and the caller gets the error.
actor SandboxPool {
    /// What a warm sandbox may be reused for. Besides the runtime and the image, the
    /// privilege: code that took over a sandbox through one gate's inputs must not then
    /// run with another gate's privilege (labels bound what it saw, not what it may
    /// do). And the memory limit the sandbox was started with.
    struct Key: Hashable, Sendable {
        let runtime: String
        let image: BlobName
        let privilege: Privilege
        let memoryMB: Int

        init(function: FunctionSpec, privilege: Privilege) {
            runtime = function.runtime
            image = function.image
            self.privilege = privilege
            memoryMB = function.memoryMB
        }

        /// This key and a sandbox label as one string (see `Worker.affinity(of:startLabel:)`).
        func affinity(label: Label) -> String {
            "\(runtime)\n\(image.hex)\n\(memoryMB)\n\(privilege)\n\(label)"
        }
    }

    /// What an invocation needs.
    struct Need: Sendable {
        let key: Key
        let startLabel: Label
        let gate: ObjectID
        let concurrency: Int
        let fresh: Bool
        let nested: Bool

        var memoryMB: Int { key.memoryMB }
    }

    /// How a need is met; a launch or an assignment is completed outside the actor.
    enum Decision: Sendable {
        case warm(SandboxHost)
        case prestarted(SandboxHost)
        /// Memory is reserved; launch a new sandbox.
        case launch
    }

    private let configuration: WorkerConfiguration
    private var idle: [Key: [SandboxHost]] = [:]
    private var prestarted: [String: [SandboxHost]] = [:]
    private var prestarting: [String: Int] = [:]
    private var usedMB = 0
    private var running: [ObjectID: Int] = [:]
    private var waiters: [(need: Need, continuation: CheckedContinuation<Decision, any Error>)] = []
    private var closed = false

    init(configuration: WorkerConfiguration) {
        self.configuration = configuration
    }

    /// A decision for `need`, waiting if it cannot be met now (busy if the queue is full).
    func acquire(_ need: Need) async throws -> Decision {
        guard !closed else { throw WorkerError.internal("the worker is shutting down") }
        if let decision = admit(need) { return decision }
        if need.nested {
            throw WorkerError.busy(
                "no room for a nested call: \(usedMB) MiB of sandboxes are in use (budget \(configuration.memoryBudgetMB) MiB, "
                    + "plus \(configuration.nestedOvercommitMB) MiB for nested calls)")
        }
        guard waiters.count < configuration.maxQueued else {
            throw WorkerError.busy("\(waiters.count) invocations are waiting for a sandbox")
        }
        return try await withCheckedThrowingContinuation { continuation in
            waiters.append((need, continuation))
        }
    }

    private func admit(_ need: Need) -> Decision? {
        if !need.nested && running[need.gate, default: 0] >= need.concurrency { return nil }
        if !need.fresh, var hosts = idle[need.key],
            let index = hosts.lastIndex(where: { $0.label.map { $0.canFlow(to: need.startLabel) } ?? true })
        {
            let host = hosts.remove(at: index)
            idle[need.key] = hosts.isEmpty ? nil : hosts
            running[need.gate, default: 0] += 1
            return .warm(host)
        }
        if need.memoryMB == configuration.prestartedMemoryMB, let host = prestarted[need.key.runtime]?.popLast() {
            running[need.gate, default: 0] += 1
            return .prestarted(host)
        }
        let budget = configuration.memoryBudgetMB + (need.nested ? configuration.nestedOvercommitMB : 0)
        while usedMB + need.memoryMB > budget, let victim = leastRecentlyUsedIdle() {
            evict(victim)
        }
        guard usedMB + need.memoryMB <= budget else { return nil }
        usedMB += need.memoryMB
        running[need.gate, default: 0] += 1
        return .launch
    }

    /// Returns a sandbox after an invocation: warm with its final label, or gone.
    func release(_ host: SandboxHost, gate: ObjectID, reusable: Bool, fresh: Bool, finalLabel: Label) {
        running[gate, default: 1] -= 1
        if reusable && !fresh && !closed, let key = host.key {
            host.label = finalLabel
            host.lastUsed = .now
            idle[key, default: []].append(host)
        } else {
            usedMB -= host.memoryMB
            Self.terminateInBackground(host)
        }
        wake()
    }

    /// Undoes a `.launch` reservation whose launch failed.
    func launchFailed(_ need: Need) {
        usedMB -= need.memoryMB
        running[need.gate, default: 1] -= 1
        wake()
    }

    /// Counts a launched sandbox's memory as the budget expects (a launch reserves the
    /// function's memory; the host is created with exactly that).
    private func wake() {
        var index = 0
        while index < waiters.count {
            if let decision = admit(waiters[index].need) {
                let waiter = waiters.remove(at: index)
                waiter.continuation.resume(returning: decision)
            } else {
                index += 1
            }
        }
    }

    // MARK: Pre-started sandboxes

    /// How many pre-started sandboxes of `runtime` to launch now (memory reserved).
    func prestartSlots(for runtime: String) -> Int {
        guard !closed else { return 0 }
        let have = (prestarted[runtime]?.count ?? 0) + prestarting[runtime, default: 0]
        var count = 0
        while have + count < configuration.prestartedPerRuntime,
            usedMB + configuration.prestartedMemoryMB <= configuration.memoryBudgetMB
        {
            usedMB += configuration.prestartedMemoryMB
            count += 1
        }
        prestarting[runtime, default: 0] += count
        return count
    }

    /// A pre-started sandbox is ready (or `nil`: its launch failed).
    func prestarted(_ host: SandboxHost?, runtime: String) {
        prestarting[runtime, default: 1] -= 1
        guard let host, !closed else {
            usedMB -= configuration.prestartedMemoryMB
            if let host { Self.terminateInBackground(host) }
            return
        }
        host.lastUsed = .now
        prestarted[runtime, default: []].append(host)
        wake()
    }

    // MARK: Eviction

    private func leastRecentlyUsedIdle() -> SandboxHost? {
        let candidates = idle.values.flatMap { $0 } + prestarted.values.flatMap { $0 }
        return candidates.min { $0.lastUsed < $1.lastUsed }
    }

    private func evict(_ host: SandboxHost) {
        if let key = host.key, var hosts = idle[key] {
            hosts.removeAll { $0 === host }
            idle[key] = hosts.isEmpty ? nil : hosts
        } else {
            prestarted[host.runtime]?.removeAll { $0 === host }
        }
        usedMB -= host.memoryMB
        Self.terminateInBackground(host)
    }

    private static func terminateInBackground(_ host: SandboxHost) {
        Thread.detachNewThread { host.terminate() }
    }

    /// The affinities of the idle warm sandboxes, most recently used first (at most 64).
    func warmAffinities() -> [String] {
        var seen = Set<String>()
        var names: [String] = []
        for host in idle.values.flatMap({ $0 }).sorted(by: { $0.lastUsed > $1.lastUsed }) {
            guard let key = host.key, let label = host.label else { continue }
            let name = key.affinity(label: label)
            if seen.insert(name).inserted { names.append(name) }
            if names.count == 64 { break }
        }
        return names
    }

    /// What the pool holds, for tests and monitoring.
    struct Snapshot: Sendable {
        let usedMB: Int
        let idle: Int
        let prestarted: Int
        let waiting: Int
    }

    var snapshot: Snapshot {
        Snapshot(
            usedMB: usedMB, idle: idle.values.reduce(0) { $0 + $1.count },
            prestarted: prestarted.values.reduce(0) { $0 + $1.count }, waiting: waiters.count)
    }

    /// Terminates every idle sandbox and refuses everything waiting.
    func close() -> [SandboxHost] {
        closed = true
        let hosts = idle.values.flatMap { $0 } + prestarted.values.flatMap { $0 }
        idle = [:]
        prestarted = [:]
        for waiter in waiters { waiter.continuation.resume(throwing: WorkerError.internal("the worker is shutting down")) }
        waiters = []
        return hosts
    }
}
