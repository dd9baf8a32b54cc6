import Foundation
import Sandbox

/// The bubblewrap backend, staging area and Python runtime every sandbox test shares:
/// one per test process, the staging area removed at exit.
public final class TestSandboxes: Sendable {
    /// The repository's root directory.
    public static let repository: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    public let backend: BubblewrapBackend
    public let staging: StagingArea
    public let runtime: GuestRuntime

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
    }

    /// A function directory under Tests/Fixtures/functions.
    public static func fixture(_ name: String) -> String {
        repository + "/Tests/Fixtures/functions/" + name
    }
}
