import FaastenTestSupport
import FileSystem
import Foundation
import Labels
import Monitor
import Sandbox
import Store
import Testing

/// Real bubblewrap sandboxes running the repository's guest runtimes, for tests.
final class SandboxHarness: Sendable {
    static var repository: String { TestSandboxes.repository }

    let backend: BubblewrapBackend
    let staging: StagingArea
    let sandboxes: TestSandboxes

    /// The process's harness; fails with the install command if bubblewrap is missing.
    static func get() throws -> SandboxHarness {
        SandboxHarness(try TestSandboxes.get())
    }

    private init(_ sandboxes: TestSandboxes) {
        backend = sandboxes.backend
        staging = sandboxes.staging
        self.sandboxes = sandboxes
    }

    static func fixture(_ name: String) -> String {
        TestSandboxes.fixture(name)
    }

    /// Starts a sandbox for a fixture function (in the language of `runtime`, see
    /// ``TestRuntime/fixture(_:)``) and completes the handshake.
    func start(
        _ function: String, runtime: TestRuntime = .python3, fileSystem: FileSystem, limits: ResourceLimits = ResourceLimits(),
        output: Int32? = nil
    ) throws -> RunningFunction {
        let spec = SandboxSpec(
            runtime: try sandboxes.runtime(runtime.rawValue), functionDirectory: try staging.stage(function: Self.fixture(runtime.fixture(function))),
            limits: limits, output: output)
        let sandbox = try backend.launch(spec)
        let monitor = Monitor(channel: sandbox.channel, fileSystem: fileSystem)
        do {
            try monitor.handshake()
        } catch {
            sandbox.terminate()
            throw error
        }
        return RunningFunction(sandbox: sandbox, monitor: monitor)
    }
}

/// A sandbox with its monitor; terminated when released.
final class RunningFunction: Sendable {
    let sandbox: any Sandbox
    let monitor: Monitor

    init(sandbox: any Sandbox, monitor: Monitor) {
        self.sandbox = sandbox
        self.monitor = monitor
    }

    deinit { sandbox.terminate() }

    /// Serves one invocation on a thread that may block; `payload` is JSON-encoded.
    func invoke(
        _ payload: some Encodable, context: SecurityContext, blobs: [String: ExistingBlob] = [:],
        timeout: Duration = .seconds(30)
    ) async throws -> GuestOutcome {
        let bytes = [UInt8](try JSONEncoder().encode(payload))
        let monitor = monitor
        return try await Blocking.run {
            monitor.serve(
                GuestRequest(id: UUID().uuidString, payload: bytes, blobs: blobs, invoker: context.privilege),
                context: context, deadline: .now + timeout)
        }
    }
}

extension GuestOutcome {
    /// The response body as JSON, or a recorded issue.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        guard case let .completed(response) = status else {
            Issue.record("the invocation failed: \(status)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            Issue.record("not a JSON object: \(String(decoding: response.body, as: UTF8.self))", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return object
    }
}
