import ArgumentParser
import FileSystem
import Foundation
import Processes
import Worker

/// `faasten-bench ifc`: what information flow control costs end to end, as this build
/// (every label check) beside the benchmark-only build without them.
struct IFCBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ifc",
        abstract: "The cost of the label checks end to end: this build beside the always-allow benchmark build.",
        discussion: """
            Runs the same workloads in this process (label checks on) and in the faasten-bench
            built with FAASTEN_BENCH_ALLOW_ALL=1 (`./dev bench-ifc` builds it in .build-allow-all:
            every rule of SecurityContext, ReleaseCheck and InvocationRules allows everything and
            no label is raised), alternating rounds so both see the same machine:
            ifc.invoke.warm: a warm no-op invocation through the Engine API (resolution with every
            directory and gate on the path, the start, invoke and reuse rules, the result label),
            pinned to --cpu.
            ifc.cloudcall.read: File.read() of a 100-byte file from the sandboxed Python (the read
            rule in the monitor), pinned.
            ifc.invoke.throughput.c8: 8 callers for --seconds, on every CPU.
            The baseline column is the always-allow build; ratio - 1 is the overhead.
            """)

    @OptionGroup var options: BenchmarkOptions
    @Option(help: "The faasten-bench built with FAASTEN_BENCH_ALLOW_ALL=1.")
    var allowAll = ".build-allow-all/release/faasten-bench"
    @Option(help: "Rounds of each build, alternated; the median round counts.") var rounds = 3
    @Option(help: "Seconds each throughput run lasts.") var seconds: Double = 2
    @Option(help: "The CPU latency runs are pinned to.") var cpu = 0
    @Flag(help: .hidden) var measureOnce = false

    func run() async throws {
        if measureOnce {
            print(try await Self.measure(options: options, seconds: seconds, cpu: cpu).json())
            return
        }
        guard FlowChecks.enabled else {
            throw BenchmarkError("run `faasten-bench ifc` from the normal build; the always-allow one is only its baseline")
        }
        guard FileManager.default.isExecutableFile(atPath: allowAll) else {
            throw BenchmarkError("no always-allow build at \(allowAll): run `./dev bench-ifc` (it builds both)")
        }
        var checked: [[String: Double]] = []
        var unchecked: [[String: Double]] = []
        for _ in 0..<max(1, rounds) {
            checked.append(try Self.values(try await Self.measure(options: options, seconds: seconds, cpu: cpu).json()))
            let baseline = try Self.values(try runAllowAll())
            guard baseline["ifc.flow_checks"] == 0 else {
                throw BenchmarkError("\(allowAll) checks labels: build it with FAASTEN_BENCH_ALLOW_ALL=1 (`./dev bench-ifc`)")
            }
            unchecked.append(baseline)
        }
        var report = BenchmarkReport(title: "faasten-bench ifc (label checks on, beside the always-allow build; median of \(checked.count) rounds)")
        for (name, unit) in Self.metrics {
            let baseline = Self.median(unchecked.map { $0[name] ?? .nan })
            // The goal: within 3% of the unchecked build (slower or lower by at most that).
            let target = unit == "1/s" ? baseline * 0.97 : baseline * 1.03
            report.add(
                name, unit: unit, Self.median(checked.map { $0[name] ?? .nan }), baseline: baseline, target: target,
                note: "always-allow build")
        }
        options.print(report)
        if !options.json {
            print("goal: ratio ≤ 1.03 (information flow control costs at most 3% end to end)")
        }
    }

    static let metrics = [
        ("ifc.invoke.warm.p50", "us"), ("ifc.cloudcall.read.p50", "us"), ("ifc.invoke.throughput.c8", "1/s"),
    ]

    /// One round of every workload in this process.
    static func measure(options: BenchmarkOptions, seconds: Double, cpu: Int) async throws -> BenchmarkReport {
        let count = options.iterations(3000)
        let duration = options.quick ? min(seconds, 1) : seconds
        var report = BenchmarkReport(title: "ifc round (label checks \(FlowChecks.enabled ? "on" : "off"))")
        let allCPUs = ThreadAffinity.current()
        if cpu >= 0 && !ProcessAffinity.pin(toCPU: cpu) { throw BenchmarkError("cannot pin to CPU \(cpu)") }
        let invoke = try await InvokeBenchmark.Harness()
        defer { invoke.close() }
        let pinned = invoke.engine(prestarted: 0)
        let warm = Distribution(try await invoke.serialLatencies(pinned, gate: "noop", count: count, warmUp: 300))
        await pinned.shutdown()
        let cloudcall = try CloudCallBenchmark.Harness()
        defer { cloudcall.close() }
        let read = Distribution(try await cloudcall.guestSamples(call: "read", n: count * 3))
        _ = ProcessAffinity.pin(toCPUs: allCPUs)
        let engine = invoke.engine(prestarted: 0)
        let rate = try await invoke.throughput(engine, gate: "noop", callers: 8, seconds: duration)
        await engine.shutdown()
        report.add("ifc.flow_checks", unit: "on", FlowChecks.enabled ? 1 : 0, baseline: 0, note: "")
        report.add("ifc.invoke.warm.p50", unit: "us", warm.p50, baseline: 0, note: "")
        report.add("ifc.cloudcall.read.p50", unit: "us", read.p50, baseline: 0, note: "")
        report.add("ifc.invoke.throughput.c8", unit: "1/s", rate, baseline: 0, note: "")
        return report
    }

    private func runAllowAll() throws -> String {
        var arguments = ["ifc", "--measure-once", "--seconds", "\(seconds)", "--cpu", "\(cpu)"]
        if options.quick { arguments.append("--quick") }
        let result = try ChildProcess.run(allowAll, arguments)
        guard case .exited(0) = result.status else {
            throw BenchmarkError("the always-allow build failed (\(result.status)): \(result.errors)")
        }
        return result.output
    }

    private static func values(_ json: String) throws -> [String: Double] {
        guard let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw BenchmarkError("not a report: \(json)")
        }
        var values: [String: Double] = [:]
        for row in rows {
            if let name = row["name"] as? String, let value = row["value"] as? Double { values[name] = value }
        }
        return values
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }
}
