import ArgumentParser
import CloudCalls
import FileSystem
import Gateway
import Foundation
import Labels
import Monitor
import Sandbox
import Store

/// `faasten run`: one function in one sandbox, fed from stdin (the original's singlevm).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a function directory in a sandbox on line-delimited JSON requests from stdin.",
        discussion: """
            Each stdin line is a JSON payload. Each stdout line is the response: {"status", "label",
            "body"} (body as text, or "body_base64"), or {"error", "message"} if the invocation failed,
            or {"refused", "label"} if the result may not be shown to the person acting (its secrecy
            is not satisfied by --as). The function runs with --as's privilege, starting at
            --start-label; its result is downgraded with that privilege. One sandbox serves every line
            (a failed invocation gets a fresh one). A failure's reason is shown only if the result
            could be. The function's own output goes to stderr unchecked: this is a development
            tool for someone who can open the store directly.
            """
    )

    @Argument(help: "The function directory (with workload.py, workload.js or workload.mjs).") var function: String
    @OptionGroup var options: FSOptions
    @Option(help: "Seconds each invocation may take.") var timeout: Double = 30
    @Option(help: "Memory limit in MiB.") var memory: Int = 256
    @Flag(help: "Run without cgroup limits if none can be created (development machines only).") var noLimits = false

    func run() async throws {
        let functionDirectory = (function as NSString).expandingTildeInPath
        guard let runtimeName = GuestRuntime.runtimeName(forFunctionIn: functionDirectory) else {
            throw CommandError("\(function) has no \(GuestRuntime.entryPoints.map(\.file).joined(separator: ", "))")
        }
        let context = try options.context(capped: false)
        let (store, fileSystem, audit) = try await options.openFileSystem()
        let runner: FunctionRunner
        do {
            let backend = try BubblewrapBackend(requireLimits: !noLimits)
            let staging = try StagingArea()
            let runtime = try staging.stage(runtime: try GuestRuntime.named(runtimeName, runtimes: try GuestRuntime.runtimesDirectory()))
            let spec = SandboxSpec(
                runtime: runtime, functionDirectory: try staging.stage(function: functionDirectory),
                limits: ResourceLimits(memoryBytes: Int64(memory) << 20), output: 2)
            runner = FunctionRunner(backend: backend, spec: spec, fileSystem: fileSystem)
        } catch {
            throw CommandError("\(error)")
        }
        let privilege = context.privilege
        let start = context
        // The sandbox and its monitor live on their own thread, which may block.
        try await Blocking.run {
            var reader = StandardInputLines()
            var number = 0
            while let line = reader.next() {
                number += 1
                guard !line.allSatisfy(\.isWhitespace) else { continue }
                guard (try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])) != nil else {
                    Self.emit(["error": "bad-request", "message": "line \(number) is not JSON"])
                    continue
                }
                let request = GuestRequest(id: "run-\(number)", payload: Array(line.utf8), invoker: privilege)
                let outcome = runner.invoke(request, context: start, deadline: .now + .milliseconds(Int(timeout * 1000)))
                Self.report(outcome, privilege: privilege)
            }
            runner.stop()
        }
        await audit.flush()
        try? await store.close()
    }

    /// Prints one outcome, after the release check on its result label.
    static func report(_ outcome: GuestOutcome, privilege: Privilege) {
        // A label beyond the limits is shown to nobody.
        let result = (try? InvocationRules.resultLabel(final: outcome.context.label, declassify: privilege.component)) ?? .top
        // A failure's message may carry what the function read (an exception's text),
        // so it passes the same release check as a result.
        let refusal: String?
        do {
            try ReleaseCheck.check(result, to: privilege)
            refusal = nil
        } catch {
            refusal = "\(error)"
        }
        switch outcome.status {
        case let .failed(failure):
            if let refusal {
                emit(["error": failure.code, "message": "the reason is withheld: \(refusal)", "label": result.description])
            } else {
                emit(["error": failure.code, "message": failure.description])
            }
        case let .completed(response):
            if let refusal {
                emit(["refused": refusal, "label": result.description])
                return
            }
            var line: [String: Any] = ["status": response.status, "label": result.description]
            if let text = String(validating: response.body, as: UTF8.self) {
                line["body"] = text
            } else {
                line["body_base64"] = Data(response.body).base64EncodedString()
            }
            emit(line)
        }
    }

    static func emit(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        FileDescriptorOutput.standardOutput.write([UInt8](data) + [0x0A])
    }
}

/// One sandbox at a time for `faasten run`: launched on first use, replaced after a
/// failed invocation, and reused only for an invocation whose start label its last
/// final label flows to (a sandbox that saw alice's data keeps it in memory).
final class FunctionRunner: @unchecked Sendable {
    let backend: BubblewrapBackend
    let spec: SandboxSpec
    let fileSystem: FileSystem
    private var current: (sandbox: any Sandbox, monitor: Monitor, label: Label)?

    init(backend: BubblewrapBackend, spec: SandboxSpec, fileSystem: FileSystem) {
        self.backend = backend
        self.spec = spec
        self.fileSystem = fileSystem
    }

    func invoke(_ request: GuestRequest, context: SecurityContext, deadline: ContinuousClock.Instant) -> GuestOutcome {
        if let current, !InvocationRules.mayReuse(sandboxAt: current.label, for: context.label) {
            current.sandbox.terminate()
            self.current = nil
        }
        let active: (sandbox: any Sandbox, monitor: Monitor, label: Label)
        if let current {
            active = current
        } else {
            do {
                let sandbox = try backend.launch(spec)
                let monitor = Monitor(channel: sandbox.channel, fileSystem: fileSystem)
                do {
                    try monitor.handshake()
                } catch {
                    sandbox.terminate()
                    return GuestOutcome(status: .failed(error), context: context)
                }
                active = (sandbox, monitor, context.label)
                current = active
            } catch {
                return GuestOutcome(status: .failed(.sandbox("\(error)")), context: context)
            }
        }
        var outcome = active.monitor.serve(request, context: context, deadline: deadline)
        current?.label = outcome.context.label
        if !outcome.sandboxReusable {
            if case .failed(.guestExited) = outcome.status, active.sandbox.hitMemoryLimit {
                outcome = GuestOutcome(status: .failed(.memoryLimit), context: outcome.context)
            }
            active.sandbox.terminate()
            current = nil
        }
        return outcome
    }

    func stop() {
        current?.sandbox.terminate()
        current = nil
    }
}

/// Lines of standard input, read as they arrive.
struct StandardInputLines {
    private var reader = LineReader(fileDescriptor: 0)
    private var pending: [String] = []

    mutating func next() -> String? {
        while pending.isEmpty {
            guard let lines = try? reader.nextLines() else { return nil }
            pending = lines.map { String(decoding: $0, as: UTF8.self) }
        }
        return pending.removeFirst()
    }
}
