import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Sandbox
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Functions that try to get out, in Python and in JavaScript (`escape`,
/// `escape-node`): every attempt fails inside the sandbox, and the host keeps serving.
@Suite("Sandbox escapes", .serialized)
struct EscapeTests {
    struct Attempt: Encodable {
        let attempt: String
        var argument: Argument? = nil
    }

    enum Argument: Encodable {
        case number(Int)
        case text(String)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .number(value): try container.encode(value)
            case let .text(value): try container.encode(value)
            }
        }
    }

    /// Runs one attempt in a fresh sandbox; returns the function's verdict, or the
    /// outcome when the function did not answer.
    static func attempt(
        _ attempt: Attempt, runtime: TestRuntime, limits: ResourceLimits = ResourceLimits(), timeout: Duration = .seconds(20),
        check: (GuestOutcome, RunningFunction) throws -> Void = { _, _ in }
    ) async throws -> JSONValue? {
        let harness = try TestSandboxes.get()
        return try await withFileSystem(.sqlite) { fs in
            let function = try harness.start("escape", runtime: runtime, fileSystem: fs, limits: limits)
            let outcome = try await function.invoke(attempt, context: context("T"), timeout: timeout)
            try check(outcome, function)
            guard case let .completed(response) = outcome.status else { return nil }
            return try JSONValue(decoding: response.body)
        }
    }

    /// The host still serves: a new sandbox answers.
    static func hostKeepsServing(_ runtime: TestRuntime) async throws {
        let verdict = try await attempt(Attempt(attempt: "uid"), runtime: runtime)
        #expect(verdict?["blocked"]?.bool == true)
    }

    /// Attempts made in both languages.
    static let common = [
        "tcp_public", "udp", "inet6", "read_shadow", "list_root", "write_outside_tmp", "processes", "uid",
    ]
    /// Raw sockets and system calls, which Python reaches through ctypes and `os`.
    /// JavaScript has no way to make them (native addons are off: `native_addon`), and
    /// the seccomp allowlists refuse them to both runtimes. `splice` and
    /// `tty_line_discipline` are calls the old default-allow filter let through.
    static let pythonOnly = [
        "netlink", "packet", "ptrace", "unshare", "clone_namespace", "mount", "keyctl", "bpf", "splice", "tty_line_discipline",
    ]
    static let nodeOnly = ["native_addon"]
    static let attempts: [(TestRuntime, String)] =
        TestRuntime.allCases.flatMap { runtime in common.map { (runtime, $0) } }
        + pythonOnly.map { (.python3, $0) } + nodeOnly.map { (.node, $0) }

    @Test(arguments: attempts)
    func attemptIsBlocked(runtime: TestRuntime, name: String) async throws {
        let verdict = try await Self.attempt(Attempt(attempt: name), runtime: runtime)
        #expect(verdict?["blocked"]?.bool == true, "\(runtime) \(name): \(verdict?["detail"]?.readable ?? "no answer")")
    }

    @Test(arguments: TestRuntime.allCases)
    func connectingToAListenerOnTheHostsLoopbackFails(runtime: TestRuntime) async throws {
        // A real listener on the host's 127.0.0.1.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        try #require(ready && listen(listener, 8) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let verdict = try await Self.attempt(Attempt(attempt: "tcp", argument: .number(port)), runtime: runtime)
        #expect(verdict?["blocked"]?.bool == true, "\(verdict?["detail"]?.readable ?? "")")
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 0) == 0, "the listener saw a connection")
    }

    @Test(arguments: TestRuntime.allCases)
    func theRepositoryIsNotVisible(runtime: TestRuntime) async throws {
        let verdict = try await Self.attempt(Attempt(attempt: "read_path", argument: .text(TestSandboxes.repository + "/Package.swift")), runtime: runtime)
        #expect(verdict?["blocked"]?.bool == true, "\(verdict?["detail"]?.readable ?? "")")
    }

    @Test(arguments: TestRuntime.allCases)
    func tmpIsWritable(runtime: TestRuntime) async throws {
        // The control: /tmp works, so the refusals above are the sandbox's doing.
        let verdict = try await Self.attempt(Attempt(attempt: "write_tmp"), runtime: runtime)
        #expect(verdict?["detail"]?.string?.contains("allowed") == true)
    }

    @Test(arguments: TestRuntime.allCases)
    func everydayLibraryWorkRunsUnderTheAllowlist(runtime: TestRuntime) async throws {
        // The control for the seccomp allowlist (`everyday`, `everyday-node`): threads, files,
        // SQLite, a child process, AF_UNIX sockets, timers, … each answer "ok".
        let harness = try TestSandboxes.get()
        try await withFileSystem(.sqlite) { fs in
            let function = try harness.start("everyday", runtime: runtime, fileSystem: fs, limits: ResourceLimits(memoryBytes: 256 << 20))
            let answers = try await function.invoke([String: String](), context: context("T"), timeout: .seconds(60)).json()
            #expect(answers.count >= 8, "\(JSONValue.object(answers).text)")
            for (check, answer) in answers.sorted(by: { $0.key < $1.key }) {
                #expect(answer.string == "ok", "\(runtime) \(check): \(answer.readable)")
            }
        }
    }

    @Test(arguments: TestRuntime.allCases)
    func aForkBombStopsAtTheProcessLimit(runtime: TestRuntime) async throws {
        try #require(getuid() == 0, "process limits need cgroups: run the tests as root")
        let verdict = try await Self.attempt(Attempt(attempt: "fork_bomb"), runtime: runtime, limits: ResourceLimits(maxProcesses: 32))
        #expect(verdict?["blocked"]?.bool == true, "\(verdict?["detail"]?.readable ?? "")")
        try await Self.hostKeepsServing(runtime)
    }

    @Test(arguments: TestRuntime.allCases)
    func allocatingPastTheMemoryLimitIsKilled(runtime: TestRuntime) async throws {
        try #require(getuid() == 0, "memory limits need cgroups: run the tests as root")
        _ = try await Self.attempt(
            Attempt(attempt: "memory", argument: .number(300)), runtime: runtime, limits: ResourceLimits(memoryBytes: 96 << 20)
        ) { outcome, function in
            guard case let .failed(failure) = outcome.status else {
                Issue.record("allocating 300 MiB under a 96 MiB limit succeeded")
                return
            }
            #expect(failure.code == "exited")
            #expect(function.sandbox.hitMemoryLimit)
        }
        try await Self.hostKeepsServing(runtime)
    }

    @Test func aJavaScriptHeapPastItsLimitEndsWithV8sOutOfMemoryBeforeTheKernelKillsIt() async throws {
        try #require(getuid() == 0, "memory limits need cgroups: run the tests as root")
        _ = try await Self.attempt(Attempt(attempt: "heap"), runtime: .node, limits: ResourceLimits(memoryBytes: 128 << 20)) {
            outcome, function in
            guard case let .failed(failure) = outcome.status else {
                Issue.record("an endless JavaScript heap answered")
                return
            }
            #expect(failure.code == "exited")
            // V8 stopped at the heap limit the runtime derived from the memory limit.
            #expect(!function.sandbox.hitMemoryLimit)
        }
        try await Self.hostKeepsServing(.node)
    }

    @Test func nodesHeapLimitsFollowTheMemoryLimit() {
        let runtime = GuestRuntime(name: "node", command: ["/usr/bin/node", "main.mjs"], binds: [], environment: [:], heap: .v8, seccomp: .node)
        #expect(runtime.command(memoryBytes: 128 << 20) == ["/usr/bin/node", "--max-old-space-size=66", "--max-semi-space-size=2", "main.mjs"])
        #expect(runtime.command(memoryBytes: 1 << 30).contains("--max-old-space-size=738"))
        #expect(runtime.command(memoryBytes: 32 << 20).contains("--max-old-space-size=16"))
        let python = GuestRuntime(name: "python3", command: ["/usr/bin/python3", "main.py"], binds: [], environment: [:], seccomp: .python)
        #expect(python.command(memoryBytes: 128 << 20) == ["/usr/bin/python3", "main.py"])
    }

    @Test(arguments: TestRuntime.allCases)
    func anEndlessLoopTimesOut(runtime: TestRuntime) async throws {
        let started = ContinuousClock.now
        _ = try await Self.attempt(Attempt(attempt: "loop"), runtime: runtime, timeout: .seconds(2)) { outcome, _ in
            guard case let .failed(failure) = outcome.status else {
                Issue.record("an endless loop answered")
                return
            }
            #expect(failure == .timeout)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        try await Self.hostKeepsServing(runtime)
    }

    @Test(arguments: TestRuntime.allCases)
    func anExitingFunctionIsReported(runtime: TestRuntime) async throws {
        _ = try await Self.attempt(Attempt(attempt: "exit"), runtime: runtime) { outcome, _ in
            guard case let .failed(failure) = outcome.status else {
                Issue.record("exiting answered")
                return
            }
            #expect(failure.code == "exited")
        }
        try await Self.hostKeepsServing(runtime)
    }
}
