import Processes
import Sandbox

/// The cold-start baseline: bwrap with every namespace and a runtime's files, running
/// `python3 -S -c pass` to exit; no seccomp, no cgroup, no handshake.
enum BareSandbox {
    /// One start, in µs.
    static func start(runtime: GuestRuntime) throws -> Double {
        var arguments = [
            "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev",
        ]
        for bind in runtime.binds { arguments += ["--ro-bind", bind.source, bind.destination] }
        arguments += ["/usr/bin/python3", "-S", "-c", "pass"]
        let start = Stopwatch.nanoseconds()
        let child = try ChildProcess("/usr/bin/bwrap", arguments, environment: [:], stdout: .null, stderr: .null)
        let status = child.wait()
        let elapsed = Double(Stopwatch.nanoseconds() - start) / 1000
        guard status.succeeded else { throw BenchmarkError("bare bwrap failed: \(status)") }
        return elapsed
    }
}
