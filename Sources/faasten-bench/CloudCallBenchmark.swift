import ArgumentParser
import FileSystem
import Foundation
import Labels
import Monitor
import Processes
import Sandbox
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// `faasten-bench cloudcall`: CloudCall round trips from Python, and sandbox cold starts.
struct CloudCallBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudcall",
        abstract: "CloudCall round trips from Python through the monitor, and cold starts of sandboxed runtimes.",
        discussion: """
            cloudcall.label: get_current_label() timed inside the sandboxed Python, beside a raw pipe
            round trip (24 bytes) from this process to a plain /usr/bin/python3 echoing on stdin/stdout.
            cloudcall.read: File.read() of a 100-byte file on SQLite, same baseline.
            cold.python: from launching a sandbox to its runtime's hello answered, beside a bare
            `bwrap --unshare-all … python3 -S -c pass` with the same runtime files, run to exit.
            Everything runs pinned to one CPU (--cpu): on these VMs a round trip between two CPUs
            costs 60-70 µs and within one 8-15 µs, whatever the transport, and the scheduler picks.
            """
    )

    @OptionGroup var options: BenchmarkOptions
    @Option(help: "The CPU to pin this process and its children to; -1 to leave placement to the scheduler.")
    var cpu: Int = 0

    func run() async throws {
        if cpu >= 0 && !ProcessAffinity.pin(toCPU: cpu) {
            throw BenchmarkError("cannot pin to CPU \(cpu)")
        }
        let calls = options.iterations(20_000)
        let colds = options.iterations(40)
        var report = BenchmarkReport(title: "faasten-bench cloudcall (µs\(cpu >= 0 ? ", pinned to CPU \(cpu)" : ""))")
        let harness = try Harness()
        defer { harness.close() }

        let baseline = try EchoProcess.latencies(count: calls)
        let label = Distribution(try await harness.guestSamples(call: "label", n: calls))
        let read = Distribution(try await harness.guestSamples(call: "read", n: calls))
        report.add("cloudcall.label.p50", unit: "us", label.p50, baseline: baseline.p50, target: 2 * baseline.p50, note: "raw pipe echo to python3")
        report.add("cloudcall.label.p99", unit: "us", label.p99, baseline: baseline.p99, note: "raw pipe echo to python3")
        report.add("cloudcall.read.p50", unit: "us", read.p50, baseline: baseline.p50, target: 60, note: "raw pipe echo to python3")
        report.add("cloudcall.read.p99", unit: "us", read.p99, baseline: baseline.p99, note: "raw pipe echo to python3")

        var cold: [Double] = []
        var bare: [Double] = []
        for _ in 0..<colds {
            cold.append(try harness.coldStart())
            bare.append(try BareSandbox.start(runtime: harness.spec.runtime))
        }
        let coldDistribution = Distribution(cold)
        let bareDistribution = Distribution(bare)
        report.add(
            "cold.python.p50", unit: "us", coldDistribution.p50, baseline: bareDistribution.p50, target: 1.5 * bareDistribution.p50,
            note: "bare bwrap python3 -S -c pass")
        report.add("cold.python.p99", unit: "us", coldDistribution.p99, baseline: bareDistribution.p99, note: "bare bwrap python3 -S -c pass")
        options.print(report)
    }

    /// A sandbox backend, a file system with a small file, and the bench function.
    final class Harness: @unchecked Sendable {
        let backend: BubblewrapBackend
        let staging: StagingArea
        let spec: SandboxSpec
        let fileSystem: FileSystem
        let directory: String

        init() throws {
            backend = try BubblewrapBackend(requireLimits: getuid() == 0)
            directory = NSTemporaryDirectory() + "faasten-bench-cloudcall-\(getpid())"
            staging = try StagingArea(root: directory + "/staging")
            let runtimes = try GuestRuntime.runtimesDirectory()
            let runtime = try staging.stage(runtime: try GuestRuntime.python(runtimes: runtimes))
            let function = (runtimes as NSString).deletingLastPathComponent + "/Benchmarks/functions/cloudcall"
            spec = SandboxSpec(runtime: runtime, functionDirectory: try staging.stage(function: function))
            fileSystem = FileSystem(store: try SQLiteStore(directory: directory + "/data"))
        }

        func close() {
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Per-call times (µs) measured by the guest.
        func guestSamples(call: String, n: Int) async throws -> [Double] {
            try await fileSystem.bootstrap()
            var root = try SecurityContext(privilege: .root)
            let rootDirectory = try await fileSystem.root()
            if (try? await fileSystem.lookup(rootDirectory, "small", &root)) == nil {
                _ = try await fileSystem.create(.file(Array(repeating: 0x61, count: 100)), label: .public, named: "small", in: rootDirectory, &root)
            }
            let sandbox = try backend.launch(spec)
            defer { sandbox.terminate() }
            let monitor = Monitor(channel: sandbox.channel, fileSystem: fileSystem)
            try monitor.handshake()
            let payload = Array(#"{"call": "\#(call)", "n": \#(n), "path": "small"}"#.utf8)
            let context = try SecurityContext()
            let outcome = try await Blocking.run {
                monitor.serve(GuestRequest(id: "bench", payload: payload), context: context, deadline: .now + .seconds(300))
            }
            guard case let .completed(response) = outcome.status,
                let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                let samples = answer["samples"] as? [Int]
            else { throw BenchmarkError("the bench function failed: \(outcome.status)") }
            return samples.map { Double($0) / 1000 }
        }

        /// Launch to hello answered, in µs.
        func coldStart() throws -> Double {
            let start = Stopwatch.nanoseconds()
            let sandbox = try backend.launch(spec)
            let monitor = Monitor(channel: sandbox.channel, fileSystem: fileSystem)
            try monitor.handshake()
            let elapsed = Double(Stopwatch.nanoseconds() - start) / 1000
            sandbox.terminate()
            return elapsed
        }

    }

    /// A plain python3 echoing stdin to stdout, for the raw round-trip baseline.
    final class EchoProcess: @unchecked Sendable {
        let child: ChildProcess
        let input: Int32
        let output: Int32
        let message = [UInt8](repeating: 0x2A, count: 24)
        var buffer = [UInt8](repeating: 0, count: 4096)

        init() throws {
            let stdin = try RawPipe.make()
            let stdout = try RawPipe.make()
            child = try ChildProcess(
                "/usr/bin/python3",
                ["-S", "-c", "import os\nwhile True:\n    d = os.read(0, 65536)\n    if not d: break\n    os.write(1, d)"],
                stdin: .descriptor(stdin.read), stdout: .descriptor(stdout.write))
            Glibc.close(stdin.read)
            Glibc.close(stdout.write)
            input = stdin.write
            output = stdout.read
        }

        /// Round trips (µs) after 500 to warm up.
        static func latencies(count: Int) throws -> Distribution {
            let echo = try EchoProcess()
            defer { echo.close() }
            return Distribution(Array((0..<(count + 500)).map { _ in echo.roundTrip() }.dropFirst(500)))
        }

        /// One round trip, in µs. A baseline that stopped echoing must not pass for a fast
        /// one: losing the echo process ends the benchmark.
        func roundTrip() -> Double {
            let start = Stopwatch.nanoseconds()
            RawPipe.writeAll(input, message)
            var received = 0
            while received < message.count {
                let n = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress!, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { fatalError("the echo baseline's python3 stopped answering (read returned \(n), errno \(errno))") }
                received += n
            }
            return Double(Stopwatch.nanoseconds() - start) / 1000
        }

        func close() {
            Glibc.close(input)
            Glibc.close(output)
            child.wait()
        }
    }
}
