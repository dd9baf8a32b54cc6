import Foundation
import Processes

/// Runs the package's built executables, which sit beside the test bundle (as in CLITests).
enum BuiltProducts {
    static let directory: URL = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent()
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func path(_ product: String) throws -> String {
        let path = directory.appendingPathComponent(product).path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingProduct(path: path) }
        return path
    }

    static func isBuilt(_ product: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(product).path)
    }

    /// Runs `product` with `arguments`, feeding `input` on stdin, and waits for it.
    static func run(_ product: String, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil) throws -> Result {
        let result = try ChildProcess.run(try path(product), arguments, input: [UInt8](input), environment: environment)
        let status: Int32
        switch result.status {
        case let .exited(code): status = code
        case let .signaled(signal): status = 128 + signal
        }
        return Result(status: status, stdout: result.output, stderr: result.errors)
    }

    struct MissingProduct: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is not built: run `swift build --build-tests` first" }
    }
}
