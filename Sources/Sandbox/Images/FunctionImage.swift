import Foundation
import Processes

/// Packs a function directory into an image: a `.tar.gz` with the files only (no byte
/// code caches, no owners), which ``StagingArea/unpack(image:bytes:limits:)`` unpacks.
public enum FunctionImage {
    /// The image of `directory`; fails if it has none of the runtimes' entry points
    /// (``GuestRuntime/entryPoints``).
    public static func pack(directory: String) throws(SandboxError) -> [UInt8] {
        guard GuestRuntime.runtimeName(forFunctionIn: directory) != nil else {
            throw .setup("\(directory) has no \(GuestRuntime.entryPoints.map(\.file).joined(separator: " or "))")
        }
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(
                "/bin/tar",
                ["--exclude=__pycache__", "--owner=0", "--group=0", "--numeric-owner", "-czf", "-", "-C", directory, "."])
        } catch {
            throw .setup("cannot pack \(directory): \(error)")
        }
        guard result.status.succeeded else { throw .setup("tar could not pack \(directory): \(result.errors)") }
        return result.stdout
    }
}
