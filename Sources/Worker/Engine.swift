import FileSystem
import Foundation
import Labels
import Monitor
import Sandbox
import Store

/// The invocation engine: runs gates' functions in sandboxes with the labels doing
/// their job.
///
/// ```swift
/// let worker = try Engine.bubblewrap(fileSystem: fs)
/// let result = await worker.invoke(InvocationRequest(target: .path(try FSPath(parsing: "~:hello")),
///                                                invoker: try Privilege(parsing: "alice"), payload: []))
/// ```
///
/// An invocation resolves its gate in the invoker's context (every directory and gate
/// on the way lifts the start label), checks that the invoker's privilege implies the
/// chain's invoker clearance, runs the function with the gate's privilege from the
/// lifted start label, and labels the result with the final label downgraded by the
/// gate's declassify component. Every invocation is recorded.
public final class Engine: Dispatcher {
    public let fileSystem: FileSystem
    public let configuration: EngineConfiguration
    let pool: SandboxPool
    let recorder: InvocationRecorder
    let backend: any SandboxBackend
    let staging: StagingArea
    let runtimes: [String: GuestRuntime]
    let unavailableRuntimes: [String: String]
    let services: ServiceCaller
    let placement: CPUPlacement?
    let background = BackgroundInvocations()
    private let asynchronousCalls = DispatcherSlot()

    /// An engine over `backend` with the staged guest `runtimes` (by name), and why
    /// others this worker would run are not available (reported to their invocations).
    public init(
        fileSystem: FileSystem, backend: any SandboxBackend, staging: StagingArea, runtimes: [String: GuestRuntime],
        unavailableRuntimes: [String: String] = [:], configuration: EngineConfiguration = EngineConfiguration()
    ) {
        self.fileSystem = fileSystem
        self.configuration = configuration
        self.backend = backend
        self.staging = staging
        self.runtimes = runtimes
        self.unavailableRuntimes = unavailableRuntimes
        pool = SandboxPool(configuration: configuration)
        recorder = InvocationRecorder(store: fileSystem.store, keys: fileSystem.keys)
        services = ServiceCaller(configuration: configuration)
        placement = CPUPlacement(enabled: configuration.colocateSandboxes)
    }

    /// The standard engine: bubblewrap sandboxes and the Python and JavaScript runtimes
    /// from the repository's `runtimes` directory (or `$FAASTEN_RUNTIMES`). Python is
    /// required; without `/usr/bin/node`, gates of runtime `node` fail with the reason.
    public static func bubblewrap(
        fileSystem: FileSystem, configuration: EngineConfiguration = EngineConfiguration(), requireLimits: Bool = true,
        stagingRoot: String? = nil
    ) throws -> Engine {
        let backend = try BubblewrapBackend(requireLimits: requireLimits)
        let staging = try StagingArea(root: stagingRoot)
        let directory = try GuestRuntime.runtimesDirectory()
        let python = try staging.stage(runtime: try GuestRuntime.python(runtimes: directory))
        var runtimes = [python.name: python]
        var unavailable: [String: String] = [:]
        do {
            let node = try staging.stage(runtime: try GuestRuntime.node(runtimes: directory))
            runtimes[node.name] = node
        } catch {
            unavailable["node"] = "\(error)"
        }
        return Engine(
            fileSystem: fileSystem, backend: backend, staging: staging, runtimes: runtimes, unavailableRuntimes: unavailable,
            configuration: configuration)
    }

    /// Starts the pre-started sandboxes of the runtimes in `prestartedAtWarmUp` (they are
    /// refilled as they are used; other runtimes get theirs after their first invocation).
    public func warmUp() async {
        for runtime in runtimes.keys where configuration.prestartedAtWarmUp.contains(runtime) {
            await refillPrestarted(runtime)
        }
    }

    // MARK: Invoking

    /// Runs an invocation to its end. A refused invocation (a flow rule, a bad request)
    /// and one refused for lack of room (busy) change nothing: they are not recorded.
    public func invoke(_ request: InvocationRequest) async -> InvocationResult {
        let id = Self.newID()
        let submittedAt = Date().timeIntervalSince1970
        let admitted: Admission.Admitted
        switch await admit(request) {
        case let .failure(refusal): return InvocationResult(id: id, outcome: .refused(refusal.error), label: refusal.label)
        case let .success(value): admitted = value
        }
        // Its place in the queue is taken with its sandbox (one step): busy when full.
        let (result, row) = await perform(
            request, admitted, id: id, submittedAt: submittedAt, resultLimit: configuration.maxRecordedResultBytes,
            place: request.nested ? .none : .takeOnAcquire)
        if case .busy = result.outcome, !request.nested { return result }  // refused: not recorded
        await recorder.record(row)
        return result
    }

    /// Accepts an invocation to run in the background and returns its id (see
    /// ``invocation(_:)``), or refuses it with nothing recorded: ``SubmissionError``
    /// says why (a flow rule; busy when the queue, or the invoker's share of it, is
    /// full). An accepted invocation always runs.
    public func submit(_ request: InvocationRequest) async throws -> String {
        let admitted: Admission.Admitted
        switch await admit(request) {
        case let .failure(refusal): throw SubmissionError.refused(refusal.error, label: refusal.label)
        case let .success(value): admitted = value
        }
        let invoker = request.invoker.description
        do {
            try await pool.reserve(invoker: invoker)
        } catch {
            throw SubmissionError.busy(Self.reason(error))
        }
        let id = Self.newID()
        let submittedAt = Date().timeIntervalSince1970
        var row = InvocationRecord(request, id: id, submittedAt: submittedAt)
        row.gate = admitted.gate.gate
        do {
            try await recorder.recordNow(row)
        } catch {
            await pool.cancelReservation(invoker: invoker)
            throw SubmissionError.unavailable("cannot record the invocation: \(error)")
        }
        let limit = configuration.maxRecordedResultBytes
        let task = Task.detached {
            let (_, row) = await self.perform(request, admitted, id: id, submittedAt: submittedAt, resultLimit: limit, place: .held)
            await self.recorder.record(row)
        }
        background.add(id, task)
        Task.detached {
            await task.value
            self.background.remove(id)
        }
        return id
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? EngineError, case let .busy(reason) = error { return reason }
        return "\(error)"
    }

    /// The record of an invocation.
    public func invocation(_ id: String) async throws -> InvocationRecord? {
        try await recorder.row(id)
    }

    /// Writes every pending record.
    public func flushRecords() async {
        await recorder.flush()
    }

    /// Stops every sandbox and writes pending records, after the submitted invocations
    /// still running have ended (or `grace` has passed: the rest are cut off).
    public func shutdown(grace: Duration = .seconds(60)) async {
        await background.waitForAll(upTo: grace)
        let hosts = await pool.close()
        for host in hosts { host.terminate() }
        await recorder.flush()
    }

    /// The pool, and whether records are being written.
    public func status() async -> DispatcherStatus {
        var status = DispatcherStatus(pool: await poolStatus())
        if let failure = await recorder.failure { status.failures["records"] = failure }
        return status
    }

    /// What the pool holds: memory used, idle and pre-started sandboxes, waiting invocations.
    public func poolStatus() async -> PoolStatus {
        let snapshot = await pool.snapshot
        return PoolStatus(usedMB: snapshot.usedMB, idle: snapshot.idle, prestarted: snapshot.prestarted, waiting: snapshot.waiting)
    }

    /// What a warm sandbox here is known by (see ``affinity(of:startLabel:)``): for a
    /// cluster's cache-aware claiming.
    public func warmAffinities() async -> [String] {
        await pool.warmAffinities()
    }

    /// The name of a warm sandbox that could serve `gate` from `startLabel`: its pool key
    /// and its label. Equal names mean the sandbox may serve it (its label flows to the
    /// start label); the pool checks that again when it lends the sandbox.
    public static func affinity(of gate: ResolvedGate, startLabel: Label) -> String {
        SandboxPool.Key(function: gate.function, privilege: gate.privilege).affinity(label: startLabel)
    }

    /// Where a function's asynchronous calls go: to this worker (the default) or to a
    /// cluster's durable queue.
    public func sendAsynchronousCalls(to dispatcher: any Dispatcher) {
        asynchronousCalls.set(dispatcher)
    }

    func submitAsynchronousCall(_ request: InvocationRequest) async throws -> String {
        if let dispatcher = asynchronousCalls.get() { return try await dispatcher.submit(request) }
        return try await submit(request)
    }

    /// A new invocation id.
    public static func newID() -> String {
        // Random version-4 UUID bits from the system generator (getrandom): `UUID()`
        // opened /dev/urandom on every call here, ~5% of a warm invocation.
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = (generator.next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low: UInt64 = (generator.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let uuid = withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { UUID(uuid: $0.load(as: uuid_t.self)) }
        return uuid.uuidString.lowercased()
    }

    // MARK: One invocation

    /// The checks before any function runs (see ``Admission``).
    func admit(_ request: InvocationRequest) async -> Result<Admission.Admitted, Admission.Refusal> {
        await Admission.admit(request, in: fileSystem, maxChainDepth: configuration.maxChainDepth)
    }

    /// Runs an invocation accepted elsewhere (a cluster's queued one) and returns how it
    /// ended with its final record, which it leaves to the caller to write (a cluster
    /// worker writes it only if its claim on the invocation still holds). The request
    /// is checked again here (the queue is not trusted to hold what was accepted): a
    /// refusal is recorded and nothing runs. The record keeps a result of up to
    /// `resultLimit` bytes (default: the configuration's `maxRecordedResultBytes`).
    public func perform(
        _ request: InvocationRequest, id: String, submittedAt: Double, keepingResultsUpTo resultLimit: Int? = nil
    ) async -> (InvocationResult, InvocationRecord) {
        let limit = resultLimit ?? configuration.maxRecordedResultBytes
        switch await admit(request) {
        case let .failure(refusal):
            var row = InvocationRecord(request, id: id, submittedAt: submittedAt)
            let result = InvocationResult(id: id, outcome: .refused(refusal.error), label: refusal.label)
            row.finish(result, keepingResultsUpTo: limit)
            return (result, row)
        case let .success(admitted):
            // Accepted already: it holds a place whatever the queue's bounds.
            if !request.nested { try? await pool.reserve(invoker: request.invoker.description, force: true) }
            return await perform(request, admitted, id: id, submittedAt: submittedAt, resultLimit: limit, place: request.nested ? .none : .held)
        }
    }

    /// An admitted invocation's place in the pool's queue.
    enum Place {
        /// Held already (``SandboxPool/reserve(invoker:force:)``).
        case held
        /// To be taken with its sandbox: busy if the queue is full.
        case takeOnAcquire
        /// A nested call: never queued.
        case none
    }

    /// Runs an admitted invocation.
    private func perform(
        _ request: InvocationRequest, _ admitted: Admission.Admitted, id: String, submittedAt: Double, resultLimit: Int, place: Place
    ) async -> (InvocationResult, InvocationRecord) {
        var row = InvocationRecord(request, id: id, submittedAt: submittedAt)
        row.gate = admitted.gate.gate
        row.startedAt = Date().timeIntervalSince1970
        row.status = .running
        let result = await execute(request, admitted, id: id, row: &row, place: place)
        row.finish(result, keepingResultsUpTo: resultLimit)
        return (result, row)
    }

    private func execute(
        _ request: InvocationRequest, _ admitted: Admission.Admitted, id: String, row: inout InvocationRecord, place: Place
    ) async -> InvocationResult {
        let resolved = admitted.gate
        let context = admitted.invokerContext
        let functionContext = admitted.functionContext
        let function = resolved.function
        let invoker = request.invoker.description
        guard let runtime = runtimes[function.runtime] else {
            if case .held = place { await pool.cancelReservation(invoker: invoker) }
            let reason = unavailableRuntimes[function.runtime].map { "the \(function.runtime) runtime is not available: \($0)" }
            return InvocationResult(
                id: id, outcome: .failed(.sandbox(reason ?? "no runtime named \(function.runtime)")), label: context.label)
        }
        let lease: Lease
        do {
            lease = try await acquire(
                function: function, runtime: runtime, gate: resolved.gate, privilege: resolved.privilege, startLabel: context.label,
                nested: request.nested, invoker: invoker, takingPlace: place == .takeOnAcquire)
        } catch let EngineError.busy(reason) {
            return InvocationResult(id: id, outcome: .busy(reason), label: context.label)
        } catch {
            return InvocationResult(id: id, outcome: .failed(.sandbox("\(error)")), label: context.label)
        }

        // A synchronous call from a function ends when its caller must: a caller's limit
        // never becomes the longest limit of what it calls.
        var deadline = ContinuousClock.now + .milliseconds(function.timeoutMilliseconds)
        if let callerDeadline = request.deadline { deadline = min(deadline, callerDeadline) }
        // What vouched for this invocation's start label vouches for its calls' too.
        let vouch = (try? request.invoker.component.and(request.inheritedIntegrity)) ?? request.invoker.component
        let chain = ChainInvoker(worker: self, invocationID: id, depth: request.depth, deadline: deadline, vouch: vouch)
        let (outcome, logs) = await lease.host.serve(
            GuestRequest(id: id, payload: request.payload, blobs: request.blobs, headers: request.headers, invoker: request.invoker),
            context: functionContext, deadline: deadline, invoker: chain)
        await pool.release(
            lease.host, gate: resolved.gate, invoker: invoker, reusable: outcome.sandboxReusable && !lease.host.abandoned,
            fresh: function.fresh, finalLabel: outcome.context.label)
        if lease.prestarted { Task { await self.refillPrestarted(runtime.name) } }

        // Logs may hold anything the function saw: labeled with its final label.
        row.logs = logs
        row.logLabel = outcome.context.label.description
        let resultLabel: Label
        do {
            resultLabel = try InvocationRules.resultLabel(final: outcome.context.label, declassify: resolved.declassify)
        } catch {
            // A result whose label cannot be computed within the limits is shown to nobody.
            return InvocationResult(id: id, outcome: .failed(.sandbox("the result's label: \(error)")), label: .top)
        }
        switch outcome.status {
        case let .completed(response):
            return InvocationResult(id: id, outcome: .completed(response), label: resultLabel)
        case let .failed(failure):
            return InvocationResult(id: id, outcome: .failed(failure), label: resultLabel)
        }
    }

    /// The invoke rule and the chain's depth (see ``Admission/authorize(_:_:depth:maxChainDepth:)``).
    func authorize(_ gate: ResolvedGate, _ context: SecurityContext, depth: Int) throws(FSError) {
        try Admission.authorize(gate, context, depth: depth, maxChainDepth: configuration.maxChainDepth)
    }

    /// A sandbox lent to one invocation, and whether it came from the pre-started ones.
    struct Lease {
        let host: SandboxHost
        let prestarted: Bool
    }

    private func acquire(
        function: FunctionSpec, runtime: GuestRuntime, gate: ObjectID, privilege: Privilege, startLabel: Label, nested: Bool,
        invoker: String, takingPlace: Bool
    ) async throws -> Lease {
        let key = SandboxPool.Key(function: function, privilege: privilege)
        let need = SandboxPool.Need(
            key: key, startLabel: startLabel, gate: gate,
            concurrency: function.concurrency > 0 ? function.concurrency : configuration.defaultConcurrency,
            fresh: function.fresh, nested: nested, invoker: invoker, takesPlace: takingPlace)
        let decision = try await pool.acquire(need)
        switch decision {
        case let .warm(host):
            return Lease(host: host, prestarted: false)
        case let .prestarted(host):
            do {
                let directory = try await imageDirectory(function.image)
                let staging = staging
                try await Blocking.run {
                    guard let slot = host.slot else { throw EngineError.internal("a pre-started sandbox without a slot") }
                    try staging.fill(slot: slot, from: directory)
                }
                host.key = key
                return Lease(host: host, prestarted: true)
            } catch {
                await pool.release(host, gate: gate, invoker: invoker, reusable: false, fresh: true, finalLabel: .bottom)
                throw error
            }
        case .launch:
            do {
                let directory = try await imageDirectory(function.image)
                let backend = backend
                let fileSystem = fileSystem
                let logLimit = configuration.maxLogBytes
                let placement = placement
                let host = try await Blocking.run {
                    try SandboxHost.launch(
                        backend: backend, runtime: runtime, directory: directory, slot: nil, memoryMB: function.memoryMB,
                        fileSystem: fileSystem, logLimit: logLimit, placement: placement)
                }
                host.key = key
                // A runtime used for the first time gets its pre-started sandboxes now.
                if configuration.prestartedPerRuntime > 0 { Task { await self.refillPrestarted(runtime.name) } }
                return Lease(host: host, prestarted: false)
            } catch {
                await pool.launchFailed(need)
                throw error
            }
        }
    }

    /// The unpacked image of a function, staged once per blob.
    func imageDirectory(_ image: BlobName) async throws -> String {
        let staging = staging
        let fileSystem = fileSystem
        return try await Blocking.run {
            if let existing = staging.unpackedImage(image.hex) { return existing }
            // A resolved gate's image (the image rule): the engine runs it, nobody reads it.
            let reader = try fileSystem.open(blob: image)
            return try staging.unpack(image: image.hex, bytes: try reader.readAll())
        }
    }

    func refillPrestarted(_ runtimeName: String) async {
        guard let runtime = runtimes[runtimeName] else { return }
        let count = await pool.prestartSlots(for: runtimeName)
        for _ in 0..<count {
            let staging = staging
            let backend = backend
            let fileSystem = fileSystem
            let configuration = configuration
            let placement = placement
            let host = try? await Blocking.run {
                let slot = try staging.makeSlot()
                do {
                    return try SandboxHost.launch(
                        backend: backend, runtime: runtime, directory: slot, slot: slot,
                        memoryMB: configuration.prestartedMemoryMB, fileSystem: fileSystem, logLimit: configuration.maxLogBytes,
                        placement: placement)
                } catch {
                    try? FileManager.default.removeItem(atPath: slot)
                    throw error
                }
            }
            await pool.prestarted(host, runtime: runtimeName)
        }
    }
}

/// Submitted invocations running in the background, so that a shutdown can wait for them.
final class BackgroundInvocations: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [String: Task<Void, Never>] = [:]

    func add(_ id: String, _ task: Task<Void, Never>) {
        lock.withLock { tasks[id] = task }
    }

    func remove(_ id: String) {
        lock.withLock { tasks[id] = nil }
    }

    func waitForAll(upTo grace: Duration) async {
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, !lock.withLock({ tasks.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A dispatcher set once after construction (the cluster's, for asynchronous calls).
final class DispatcherSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (any Dispatcher)?

    func set(_ dispatcher: any Dispatcher) { lock.withLock { value = dispatcher } }
    func get() -> (any Dispatcher)? { lock.withLock { value } }
}
