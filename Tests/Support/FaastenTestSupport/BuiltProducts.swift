import Foundation
import Processes

/// Runs the package's built executables, which sit beside the test bundle.
public enum BuiltProducts {
    public static let directory: URL = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent()
    }()

    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    public static func path(_ product: String) throws -> String {
        let path = directory.appendingPathComponent(product).path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingProduct(path: path) }
        return path
    }

    public static func isBuilt(_ product: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(product).path)
    }

    /// Runs `product` with `arguments`, feeding `input` on stdin, and waits for it.
    public static func run(_ product: String, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil) throws -> Result {
        let result = try ChildProcess.run(try path(product), arguments, input: [UInt8](input), environment: environment)
        let status: Int32
        switch result.status {
        case let .exited(code): status = code
        case let .signaled(signal): status = 128 + signal
        }
        return Result(status: status, stdout: result.output, stderr: result.errors)
    }

    /// Runs `fstn` against `server` as a user whose home and configuration are `config`
    /// (nothing of the real user's leaks in).
    public static func fstn(
        _ arguments: [String], input: String = "", server: String, config: String
    ) throws -> Result {
        try run(
            "fstn", arguments, input: Data(input.utf8),
            environment: ["XDG_CONFIG_HOME": config, "HOME": config, "PATH": "/usr/bin:/bin", "FSTN_SERVER": server])
    }

    public struct MissingProduct: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path) is not built: run `swift build --build-tests` first" }
    }
}

/// A running child with pipes to its stdin and from its stdout, read line by line.
public final class InteractiveProcess {
    public let child: ChildProcess
    private let input: Int32
    private let output: Int32
    private var buffer: [UInt8] = []

    public init(_ executable: String, _ arguments: [String]) throws {
        let stdin = try RawPipe.make()
        let stdout = try RawPipe.make()
        child = try ChildProcess(executable, arguments, stdin: .descriptor(stdin.read), stdout: .descriptor(stdout.write))
        close(stdin.read)
        close(stdout.write)
        input = stdin.write
        output = stdout.read
    }

    deinit {
        close(input)
        close(output)
        child.signal(SIGKILL)
        child.wait()
    }

    public func send(_ text: String) {
        RawPipe.writeAll(input, Array(text.utf8))
    }

    public func closeInput() {
        close(input)
    }

    /// The next line, without its newline; `nil` at end of output.
    public func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
