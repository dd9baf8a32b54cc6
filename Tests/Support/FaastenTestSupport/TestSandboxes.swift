import Foundation
import Sandbox

/// The bubblewrap backend, staging area and guest runtimes (Python and JavaScript)
/// every sandbox test shares: one per test process, the staging area removed at exit.
public final class TestSandboxes: Sendable {
    /// The repository's root directory.
    public static let repository: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    public let backend: BubblewrapBackend
    public let staging: StagingArea
    /// The Python runtime.
    public let runtime: GuestRuntime
    /// The JavaScript runtime, or why it cannot run here.
    private let node: Result<GuestRuntime, SandboxError>

    nonisolated(unsafe) private static var shared: TestSandboxes?
    private static let lock = NSLock()

    /// The process's sandboxes; fails with the install command if bubblewrap is missing.
    /// Cgroup limits are required when running as root (CI), optional otherwise.
    public static func get() throws -> TestSandboxes {
        try lock.withLock {
            if let shared { return shared }
            let sandboxes = try TestSandboxes()
            shared = sandboxes
            atexit { try? FileManager.default.removeItem(atPath: TestSandboxes.shared!.staging.root) }
            return sandboxes
        }
    }

    private init() throws {
        backend = try BubblewrapBackend(requireLimits: getuid() == 0)
        staging = try StagingArea(root: NSTemporaryDirectory() + "faasten-sandbox-tests-\(getpid())")
        runtime = try staging.stage(runtime: try GuestRuntime.python(runtimes: Self.repository + "/runtimes"))
        do {
            node = .success(try staging.stage(runtime: try GuestRuntime.node(runtimes: Self.repository + "/runtimes")))
        } catch {
            node = .failure(error as? SandboxError ?? .setup("\(error)"))
        }
    }

    /// The runtime named `name` (`python3` or `node`); fails with what to install if it
    /// cannot run here.
    public func runtime(_ name: String) throws -> GuestRuntime {
        switch name {
        case runtime.name: return runtime
        case "node": return try node.get()
        default: throw SandboxError.setup("no runtime named \(name)")
        }
    }

    /// The runtimes an engine serves, by name: Python, and with `node` JavaScript too
    /// (failing with what to install if it cannot run here).
    public func runtimes(node: Bool = false) throws -> [String: GuestRuntime] {
        var runtimes = [runtime.name: runtime]
        if node {
            let javaScript = try runtime("node")
            runtimes[javaScript.name] = javaScript
        }
        return runtimes
    }

    /// A function directory under Tests/Fixtures/functions.
    public static func fixture(_ name: String) -> String {
        repository + "/Tests/Fixtures/functions/" + name
    }
}

/// The guest runtimes a suite runs for. A fixture written for both has a Python
/// version (`Tests/Fixtures/functions/NAME`) and a JavaScript one (`NAME-node`).
public enum TestRuntime: String, CaseIterable, Sendable, CustomStringConvertible {
    case python3
    case node

    /// The fixture directory's name for this runtime.
    public func fixture(_ name: String) -> String {
        switch self {
        case .python3: return name
        case .node: return name + "-node"
        }
    }

    public var description: String { rawValue }
}
