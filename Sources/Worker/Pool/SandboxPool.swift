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
///   Each gate has a concurrency limit.
/// - Top-level invocations are admitted to a bounded queue *before* anything about
///   them is recorded (``reserve(invoker:)``: busy when full), so an accepted
///   invocation is never failed for lack of room later: it waits its turn. The queue
///   is fair across invokers: each holds at most `maxQueuedPerInvoker` of its places,
///   waiting invocations are served round-robin by invoker, and while others wait
///   one invoker's running sandboxes may use at most `maxBudgetSharePerInvoker` of
///   the memory budget; so one principal's flood delays another's invocation by
///   about one function's run, not by the whole flood.
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

        /// This key and a sandbox label as one string (see `Engine.affinity(of:startLabel:)`).
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
        /// Who invokes (the privilege's text): the unit of fairness.
        let invoker: String
        /// A top-level invocation that takes its place in the queue now (busy if full),
        /// rather than holding one already.
        var takesPlace = false

        var memoryMB: Int { key.memoryMB }
    }

    /// How a need is met; a launch or an assignment is completed outside the actor.
    enum Decision: Sendable {
        case warm(SandboxHost)
        case prestarted(SandboxHost)
        /// Memory is reserved; launch a new sandbox.
        case launch
    }

    private let configuration: EngineConfiguration
    private var idle: [Key: [SandboxHost]] = [:]
    private var prestarted: [String: [SandboxHost]] = [:]
    private var prestarting: [String: Int] = [:]
    private var usedMB = 0
    private var running: [ObjectID: Int] = [:]
    /// Memory of the sandboxes running for each invoker.
    private var runningMB: [String: Int] = [:]
    /// Places in the queue held by admitted invocations not yet running, in all and by invoker.
    private var reserved = 0
    private var reservedBy: [String: Int] = [:]
    /// Waiting invocations by invoker (each in arrival order), and the invokers in the
    /// order they are served: round-robin, the one served last goes to the back.
    private var waiters: [String: [(need: Need, continuation: CheckedContinuation<Decision, any Error>)]] = [:]
    private var rotation: [String] = []
    private var closed = false

    init(configuration: EngineConfiguration) {
        self.configuration = configuration
    }

    /// Holds a place in the queue for an invocation of `invoker` about to be accepted;
    /// busy (nothing held) when the queue, or the invoker's share of it, is full. A
    /// place is given back by ``acquire(_:)`` when the invocation starts, or by
    /// ``cancelReservation(invoker:)``. `force` holds one whatever the bounds: for work
    /// already accepted elsewhere (a cluster's claimed invocations).
    func reserve(invoker: String, force: Bool = false) throws {
        guard !closed else { throw EngineError.busy("the worker is shutting down") }
        if !force {
            guard reserved < configuration.maxQueued else {
                throw EngineError.busy("\(reserved) invocations are waiting (the queue holds \(configuration.maxQueued))")
            }
            let own = reservedBy[invoker, default: 0]
            guard own < configuration.maxQueuedPerInvoker else {
                throw EngineError.busy(
                    "\(own) invocations of \(invoker) are waiting (each invoker may have \(configuration.maxQueuedPerInvoker) queued)")
            }
        }
        reserved += 1
        reservedBy[invoker, default: 0] += 1
    }

    /// Gives back a place held by ``reserve(invoker:force:)`` for an invocation that
    /// will not run.
    func cancelReservation(invoker: String) {
        releasePlace(invoker)
    }

    private func releasePlace(_ invoker: String) {
        reserved -= 1
        let left = reservedBy[invoker, default: 1] - 1
        reservedBy[invoker] = left > 0 ? left : nil
    }

    /// A decision for `need`. A top-level invocation holds a place (see
    /// ``reserve(invoker:force:)``, or takes one now: ``Need/takesPlace``) and waits its
    /// turn, however long; a nested call never waits (busy if there is no room).
    func acquire(_ need: Need) async throws -> Decision {
        if need.takesPlace { try reserve(invoker: need.invoker) }
        guard !closed else {
            if !need.nested { releasePlace(need.invoker) }
            throw EngineError.internal("the worker is shutting down")
        }
        if need.nested {
            if let decision = admit(need) { return decision }
            throw EngineError.busy(
                "no room for a nested call: \(usedMB) MiB of sandboxes are in use (budget \(configuration.memoryBudgetMB) MiB, "
                    + "plus \(configuration.nestedOvercommitMB) MiB for nested calls)")
        }
        // Others already waiting go first: a newcomer does not overtake them.
        if waiters.isEmpty, let decision = admit(need) {
            releasePlace(need.invoker)
            return decision
        }
        return try await withCheckedThrowingContinuation { continuation in
            if waiters[need.invoker] == nil { rotation.append(need.invoker) }
            waiters[need.invoker, default: []].append((need, continuation))
            wake()
        }
    }

    private func admit(_ need: Need) -> Decision? {
        if !need.nested && running[need.gate, default: 0] >= need.concurrency { return nil }
        if !need.nested && overShare(need) { return nil }
        if !need.fresh, var hosts = idle[need.key],
            let index = hosts.lastIndex(where: { InvocationRules.mayReuse(sandboxAt: $0.label, for: need.startLabel) })
        {
            let host = hosts.remove(at: index)
            idle[need.key] = hosts.isEmpty ? nil : hosts
            start(need, memoryMB: host.memoryMB)
            return .warm(host)
        }
        if need.memoryMB == configuration.prestartedMemoryMB, let host = prestarted[need.key.runtime]?.popLast() {
            start(need, memoryMB: host.memoryMB)
            return .prestarted(host)
        }
        let budget = configuration.memoryBudgetMB + (need.nested ? configuration.nestedOvercommitMB : 0)
        while usedMB + need.memoryMB > budget, let victim = leastRecentlyUsedIdle() {
            evict(victim)
        }
        guard usedMB + need.memoryMB <= budget else { return nil }
        usedMB += need.memoryMB
        start(need, memoryMB: need.memoryMB)
        return .launch
    }

    private func start(_ need: Need, memoryMB: Int) {
        running[need.gate, default: 0] += 1
        runningMB[need.invoker, default: 0] += memoryMB
    }

    /// Whether starting `need` now would take its invoker past its share of the budget
    /// while another invoker waits (alone, an invoker may use all of it).
    private func overShare(_ need: Need) -> Bool {
        let share = Int(Double(configuration.memoryBudgetMB) * configuration.maxBudgetSharePerInvoker)
        guard runningMB[need.invoker, default: 0] + need.memoryMB > share else { return false }
        return rotation.contains { $0 != need.invoker }
    }

    /// Returns a sandbox after an invocation: warm with its final label, or gone.
    func release(_ host: SandboxHost, gate: ObjectID, invoker: String, reusable: Bool, fresh: Bool, finalLabel: Label) {
        running[gate, default: 1] -= 1
        let left = runningMB[invoker, default: 0] - host.memoryMB
        runningMB[invoker] = left > 0 ? left : nil
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
        let left = runningMB[need.invoker, default: 0] - need.memoryMB
        runningMB[need.invoker] = left > 0 ? left : nil
        wake()
    }

    /// Starts what can start now, round-robin by invoker: each pass gives every
    /// waiting invoker, in turn, its first invocation that fits; an invoker served goes
    /// to the back of the rotation.
    private func wake() {
        var served = true
        while served {
            served = false
            var turn = 0
            while turn < rotation.count {
                let invoker = rotation[turn]
                guard var queue = waiters[invoker], !queue.isEmpty else {
                    waiters[invoker] = nil
                    rotation.remove(at: turn)
                    continue
                }
                var started: (index: Int, decision: Decision)?
                for (index, waiter) in queue.enumerated() {
                    if let decision = admit(waiter.need) {
                        started = (index, decision)
                        break
                    }
                }
                guard let started else {
                    turn += 1
                    continue
                }
                let waiter = queue.remove(at: started.index)
                releasePlace(invoker)
                rotation.remove(at: turn)
                if queue.isEmpty {
                    waiters[invoker] = nil
                } else {
                    waiters[invoker] = queue
                    rotation.append(invoker)
                }
                waiter.continuation.resume(returning: started.decision)
                served = true
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
            prestarted: prestarted.values.reduce(0) { $0 + $1.count }, waiting: waiters.values.reduce(0) { $0 + $1.count })
    }

    /// Terminates every idle sandbox and refuses everything waiting.
    func close() -> [SandboxHost] {
        closed = true
        let hosts = idle.values.flatMap { $0 } + prestarted.values.flatMap { $0 }
        idle = [:]
        prestarted = [:]
        for (invoker, queue) in waiters {
            for waiter in queue {
                releasePlace(invoker)
                waiter.continuation.resume(throwing: EngineError.internal("the worker is shutting down"))
            }
        }
        waiters = [:]
        rotation = []
        return hosts
    }
}
