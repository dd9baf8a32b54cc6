import ArgumentParser
import FileSystem
import Foundation
import Keys
import Labels
import Processes
import Sandbox
import Store
import Worker

#if canImport(Glibc)
    import Glibc
#endif

/// `faasten-bench invoke`: invocations of a no-op Python function through the Engine API,
/// and with `--runtime node` of its JavaScript twin beside it.
struct InvokeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invocations of a no-op function through the Engine API: warm, cold, and throughput.",
        discussion: """
            invoke.warm: one caller invoking the gate ~:noop by path (resolution, authorization,
            the pool, the sandbox round trip, the record), with a warm sandbox.
            invoke.cold: a gate in fresh mode with nothing pre-started: every invocation launches
            a sandbox. invoke.prestarted: the same with pre-started sandboxes.
            invoke.throughput.cN: N callers invoking as fast as they can for --seconds.
            Baselines, in the same run: a 24-byte round trip through pipes to a pre-started
            /usr/bin/python3 echoing them (N of them, for throughput), and a bare bwrap python3 run.
            With --runtime node, also invoke.warm.node and invoke.cold.node: the same for a
            no-op JavaScript function, each beside the Python figure measured in the same run
            (ratio = node / python).
            """
    )

    @OptionGroup var options: BenchmarkOptions
    @Option(help: "Seconds each throughput run lasts.") var seconds: Double = 3
    @Option(help: "The CPU the latency runs are pinned to; -1 to leave placement to the scheduler.")
    var cpu: Int = 0
    @Option(help: "python3 (the default), or node to measure JavaScript functions beside Python ones.")
    var runtime: String = "python3"

    func run() async throws {
        let warmCount = options.iterations(5000)
        let coldCount = options.iterations(40)
        let duration = options.quick ? min(seconds, 1) : seconds
        let allCPUs = ThreadAffinity.current()
        guard ["python3", "node"].contains(runtime) else { throw BenchmarkError("--runtime must be python3 or node") }
        let withNode = runtime == "node"
        var report = BenchmarkReport(title: "faasten-bench invoke (latency pinned to CPU \(cpu); throughput and cold on \(allCPUs.count) CPUs)")
        let harness = try await Harness(node: withNode)
        defer { harness.close() }

        // Warm latency, pinned like faasten-bench cloudcall: on these VMs waking an idle
        // CPU costs 30-60 µs, several times the work of a no-op invocation.
        if cpu >= 0 && !ProcessAffinity.pin(toCPU: cpu) { throw BenchmarkError("cannot pin to CPU \(cpu)") }
        let pinned = harness.engine(prestarted: 0)
        let baseline = try CloudCallBenchmark.EchoProcess.latencies(count: warmCount)
        let warm = Distribution(try await harness.serialLatencies(pinned, gate: "noop", count: warmCount, warmUp: 300))
        let warmNode = withNode
            ? Distribution(try await harness.serialLatencies(pinned, gate: "noop-node", count: warmCount, warmUp: 300)) : nil
        await pinned.shutdown()
        report.add("invoke.warm.p50", unit: "us", warm.p50, baseline: baseline.p50, target: 150, note: "pipe echo to python3")
        report.add("invoke.warm.p99", unit: "us", warm.p99, baseline: baseline.p99, note: "pipe echo to python3")
        if let warmNode {
            report.add("invoke.warm.node.p50", unit: "us", warmNode.p50, baseline: warm.p50, note: "the Python function, same run")
            report.add("invoke.warm.node.p99", unit: "us", warmNode.p99, baseline: warm.p99, note: "the Python function, same run")
        }

        // Everything else on every CPU.
        _ = ProcessAffinity.pin(toCPUs: allCPUs)
        let engine = harness.engine(prestarted: 0)
        let unpinnedBaseline = try CloudCallBenchmark.EchoProcess.latencies(count: warmCount / 5)
        let unpinned = Distribution(try await harness.serialLatencies(engine, gate: "noop", count: warmCount / 5, warmUp: 100))
        report.add(
            "invoke.warm.unpinned.p50", unit: "us", unpinned.p50, baseline: unpinnedBaseline.p50, note: "pipe echo to python3, unpinned")
        for callers in [1, 2, 8] {
            let rate = try await harness.throughput(engine, gate: "noop", callers: callers, seconds: duration)
            let echoRate = try Self.echoThroughput(callers: callers, seconds: min(duration, 1))
            report.add(
                "invoke.throughput.c\(callers)", unit: "1/s", rate, baseline: echoRate,
                note: "\(callers) pipe echo loop\(callers == 1 ? "" : "s")")
        }

        let bare = Distribution(try (0..<coldCount).map { _ in try BareSandbox.start(runtime: harness.runtime) })
        let cold = Distribution(try await harness.serialLatencies(engine, gate: "fresh", count: coldCount, warmUp: 2))
        let coldNode = withNode
            ? Distribution(try await harness.serialLatencies(engine, gate: "fresh-node", count: coldCount, warmUp: 2)) : nil
        await engine.shutdown()
        report.add("invoke.cold.p50", unit: "us", cold.p50, baseline: bare.p50, note: "bare bwrap python3 -S -c pass")
        report.add("invoke.cold.p99", unit: "us", cold.p99, baseline: bare.p99, note: "bare bwrap python3 -S -c pass")
        if let coldNode {
            report.add("invoke.cold.node.p50", unit: "us", coldNode.p50, baseline: cold.p50, note: "the Python function, same run")
            report.add("invoke.cold.node.p99", unit: "us", coldNode.p99, baseline: cold.p99, note: "the Python function, same run")
        }

        try await Self.measureSealing(plain: harness, into: &report, count: warmCount, seconds: duration, cpu: cpu, allCPUs: allCPUs)

        let prestarting = harness.engine(prestarted: 2)
        await prestarting.warmUp()
        let fromPool = Distribution(
            try await harness.serialLatencies(prestarting, gate: "fresh", count: coldCount, warmUp: 2, pause: 0.1))
        await prestarting.shutdown()
        report.add("invoke.prestarted.p50", unit: "us", fromPool.p50, baseline: bare.p50, note: "bare bwrap python3 -S -c pass")
        options.print(report)
        if !options.json {
            print("targets: invoke.warm.p50 ≤ 150 µs; invoke.throughput.cN ≥ 3000/s (rates to reach; no-op invocations, 2 cores)")
        }
    }

    /// Warm latency and 8-caller throughput with everything sealed at rest (gates, images,
    /// records), beside the same in clear, in alternating blocks (so that drift falls on both).
    static func measureSealing(
        plain: Harness, into report: inout BenchmarkReport, count: Int, seconds: Double, cpu: Int, allCPUs: [Int]
    ) async throws {
        let sealedHarness = try await Harness(sealed: true)
        defer { sealedHarness.close() }
        if cpu >= 0 && !ProcessAffinity.pin(toCPU: cpu) { throw BenchmarkError("cannot pin to CPU \(cpu)") }
        let sealedEngine = sealedHarness.engine(prestarted: 0)
        let plainEngine = plain.engine(prestarted: 0)
        var sealedSamples: [Double] = []
        var plainSamples: [Double] = []
        for _ in 0..<4 {
            sealedSamples += try await sealedHarness.serialLatencies(sealedEngine, gate: "noop", count: count / 4, warmUp: 100)
            plainSamples += try await plain.serialLatencies(plainEngine, gate: "noop", count: count / 4, warmUp: 100)
        }
        let sealedWarm = Distribution(sealedSamples)
        let plainWarm = Distribution(plainSamples)
        report.add(
            "invoke.warm.sealed.p50", unit: "us", sealedWarm.p50, baseline: plainWarm.p50, target: plainWarm.p50 * 1.05,
            note: "the same in clear, same run")
        report.add("invoke.warm.sealed.p99", unit: "us", sealedWarm.p99, baseline: plainWarm.p99, note: "the same in clear, same run")
        _ = ProcessAffinity.pin(toCPUs: allCPUs)
        var sealedRate = 0.0
        var plainRate = 0.0
        for _ in 0..<2 {
            sealedRate += try await sealedHarness.throughput(sealedEngine, gate: "noop", callers: 8, seconds: seconds / 2)
            plainRate += try await plain.throughput(plainEngine, gate: "noop", callers: 8, seconds: seconds / 2)
        }
        await sealedEngine.shutdown()
        await plainEngine.shutdown()
        report.add(
            "invoke.throughput.sealed.c8", unit: "1/s", sealedRate / 2, baseline: plainRate / 2, target: plainRate / 2 * 0.95,
            note: "the same in clear, same run")
    }

    /// Round trips per second of `callers` threads, each with its own echoing python3.
    static func echoThroughput(callers: Int, seconds: Double) throws -> Double {
        let echoes = try (0..<callers).map { _ in try CloudCallBenchmark.EchoProcess() }
        defer { echoes.forEach { $0.close() } }
        let total = Counter()
        let deadline = Stopwatch.nanoseconds() + UInt64(seconds * 1e9)
        let group = DispatchGroup()
        for echo in echoes {
            group.enter()
            Thread.detachNewThread {
                var count = 0
                while Stopwatch.nanoseconds() < deadline {
                    _ = echo.roundTrip()
                    count += 1
                }
                total.add(count)
                group.leave()
            }
        }
        group.wait()
        return Double(total.value) / seconds
    }

    /// A total added to from several threads.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var total = 0
        func add(_ count: Int) { lock.withLock { total += count } }
        var value: Int { lock.withLock { total } }
    }

    /// A file system with alice's no-op gates (one reusing sandboxes, one fresh; with
    /// `node`, the same for the JavaScript function: `noop-node`, `fresh-node`), and
    /// engines over it.
    final class Harness: @unchecked Sendable {
        let directory: String
        let fileSystem: FileSystem
        let store: any Store
        let staging: StagingArea
        let backend: BubblewrapBackend
        /// The Python runtime (the bare-sandbox baseline runs its interpreter).
        let runtime: GuestRuntime
        let runtimes: [String: GuestRuntime]
        let alice: Privilege

        /// The gates on `store` (default: SQLite in a temporary directory); with `node`,
        /// the Node.js runtime beside Python's; with `sealed`, everything sealed at rest as
        /// `faasten` stores it (a key ring whose master key file is in the directory).
        init(node: Bool = false, store given: (any Store)? = nil, sealed: Bool = false) async throws {
            directory = NSTemporaryDirectory() + "faasten-bench-invoke-\(getpid())-\(UUID().uuidString.prefix(8))"
            alice = try Privilege(parsing: "alice")
            backend = try BubblewrapBackend(requireLimits: getuid() == 0)
            staging = try StagingArea(root: directory + "/staging")
            let runtimesDirectory = try GuestRuntime.runtimesDirectory()
            runtime = try staging.stage(runtime: try GuestRuntime.python(runtimes: runtimesDirectory))
            var runtimes = [runtime.name: runtime]
            if node {
                let nodeRuntime = try staging.stage(runtime: try GuestRuntime.node(runtimes: runtimesDirectory))
                runtimes[nodeRuntime.name] = nodeRuntime
            }
            self.runtimes = runtimes
            if let given {
                store = given
            } else {
                store = try SQLiteStore(directory: directory + "/data")
            }
            if sealed {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let keys = try await KeyRing.open(store: store, master: .file(directory + "/master-key", create: true))
                fileSystem = FileSystem(store: store, keys: keys)
            } else {
                fileSystem = FileSystem(store: store)
            }
            try await fileSystem.bootstrap()
            try await fileSystem.addUser(Principal(["alice"]))
            let functions = (runtimesDirectory as NSString).deletingLastPathComponent + "/Benchmarks/functions/"
            let images = try [("", "python3", "noop"), ("-node", "node", "noop-node")].filter { runtimes[$0.1] != nil }.map {
                (suffix: $0.0, runtime: $0.1, blob: try fileSystem.blobs.store(try FunctionImage.pack(directory: functions + $0.2)))
            }
            var context = try SecurityContext(privilege: alice)
            let alice = alice
            let home = try FSPath(parsing: "~")
            try await fileSystem.transaction(.write, &context) { fs, context throws(FSError) in
                let directory = try fs.resolve(home, &context)
                for image in images {
                    let imageEntry = try fs.create(.blob(image.blob), label: nil, named: "noop\(image.suffix).image", in: directory, &context)
                    for (name, fresh) in [("noop", false), ("fresh", true)] {
                        let spec = GateSpec(
                            target: .function(
                                runtime: image.runtime, image: imageEntry, memoryMB: 128, timeoutMilliseconds: 10_000, fresh: fresh),
                            privilege: alice)
                        _ = try fs.create(.gate(spec), label: nil, named: name + image.suffix, in: directory, &context)
                    }
                }
            }
        }

        /// An engine with the default configuration and `prestarted` sandboxes per runtime
        /// (on `fileSystem`, default this harness's).
        func engine(prestarted: Int, fileSystem: FileSystem? = nil) -> Engine {
            var configuration = EngineConfiguration()
            configuration.prestartedPerRuntime = prestarted
            return Engine(
                fileSystem: fileSystem ?? self.fileSystem, backend: backend, staging: staging, runtimes: runtimes,
                configuration: configuration)
        }

        func close() {
            try? FileManager.default.removeItem(atPath: directory)
        }

        func request(_ gate: String) throws -> InvocationRequest {
            InvocationRequest(target: .path(try FSPath(parsing: "home:<alice,alice>:" + gate)), invoker: alice, payload: [])
        }

        /// Latencies (µs) of `count` invocations one after another.
        func serialLatencies(_ worker: any Dispatcher, gate: String, count: Int, warmUp: Int, pause: Double = 0) async throws -> [Double] {
            let request = try request(gate)
            var samples: [Double] = []
            samples.reserveCapacity(count)
            for index in 0..<(warmUp + count) {
                if pause > 0 { try await Task.sleep(for: .seconds(pause)) }
                let start = Stopwatch.nanoseconds()
                let result = await worker.invoke(request)
                let elapsed = Double(Stopwatch.nanoseconds() - start) / 1000
                guard case .completed = result.outcome else { throw BenchmarkError("the no-op invocation failed: \(result.outcome)") }
                if index >= warmUp { samples.append(elapsed) }
            }
            await (worker as? Engine)?.flushRecords()
            return samples
        }

        /// Invocations per second of `callers` concurrent callers.
        func throughput(_ worker: any Dispatcher, gate: String, callers: Int, seconds: Double) async throws -> Double {
            let request = try request(gate)
            // Warm `callers` sandboxes first.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<callers { group.addTask { _ = await worker.invoke(request) } }
                try await group.waitForAll()
            }
            let deadline = Stopwatch.nanoseconds() + UInt64(seconds * 1e9)
            let start = Stopwatch.nanoseconds()
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<callers {
                    group.addTask {
                        var count = 0
                        while Stopwatch.nanoseconds() < deadline {
                            let result = await worker.invoke(request)
                            guard case .completed = result.outcome else {
                                throw BenchmarkError("the no-op invocation failed: \(result.outcome)")
                            }
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = Double(Stopwatch.nanoseconds() - start) / 1e9
            await (worker as? Engine)?.flushRecords()
            return Double(total) / elapsed
        }

    }
}
