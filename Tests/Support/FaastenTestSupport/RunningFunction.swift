import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Sandbox
import Store
import Testing

extension TestSandboxes {
    /// Starts a sandbox for a fixture function (in the language of `runtime`, see
    /// ``TestRuntime/fixture(_:)``) with a monitor on `fileSystem`, and completes the handshake.
    public func start(
        _ function: String, runtime: TestRuntime = .python3, fileSystem: FileSystem, limits: ResourceLimits = ResourceLimits(),
        output: Int32? = nil
    ) throws -> RunningFunction {
        let spec = SandboxSpec(
            runtime: try self.runtime(runtime.rawValue),
            functionDirectory: try staging.stage(function: Self.fixture(runtime.fixture(function))),
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
public final class RunningFunction: Sendable {
    public let sandbox: any Sandbox
    public let monitor: Monitor

    public init(sandbox: any Sandbox, monitor: Monitor) {
        self.sandbox = sandbox
        self.monitor = monitor
    }

    deinit { sandbox.terminate() }

    /// Serves one invocation on a thread that may block; `payload` is JSON-encoded.
    public func invoke(
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
    /// The response body as a JSON object, or a recorded issue.
    public func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: JSONValue] {
        guard case let .completed(response) = status else {
            Issue.record("the invocation failed: \(status)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return try jsonObject(response.body, sourceLocation: sourceLocation)
    }
}
