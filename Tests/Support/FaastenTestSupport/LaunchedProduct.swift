import Foundation
import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// A built executable started in the background (a server, a worker), whose first
/// stdout line says it is ready; its stderr goes to a log file. Stopped by ``stop()``
/// (SIGTERM, then SIGKILL) or killed by ``kill()``.
public final class LaunchedProduct: @unchecked Sendable {
    public let child: ChildProcess
    /// The line it printed when ready.
    public let readyLine: String
    public let logPath: String

    /// How long a product may take to print its first line.
    public static let startTimeout: Double = 60

    private init(child: ChildProcess, readyLine: String, logPath: String) {
        self.child = child
        self.readyLine = readyLine
        self.logPath = logPath
    }

    /// Starts `product` and waits for a first stdout line containing `ready`.
    public static func start(_ product: String, _ arguments: [String], log logPath: String, ready: String) throws -> LaunchedProduct {
        let stdout = try RawPipe.make()
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer { close(log) }
        let child = try ChildProcess(try BuiltProducts.path(product), arguments, stdout: .descriptor(stdout.write), stderr: .descriptor(log))
        close(stdout.write)
        guard let line = readLine(stdout.read, timeout: startTimeout), line.contains(ready) else {
            child.signal(SIGKILL)
            child.wait()
            close(stdout.read)
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw StartFailure(description: "\(product) \(arguments.first ?? "") did not print '\(ready)'; its log:\n\(text)")
        }
        // Keep reading its stdout so that it never blocks on a full pipe; its exit ends the reading.
        let descriptor = stdout.read
        Thread.detachNewThread {
            _ = RawPipe.readAll(descriptor)
            close(descriptor)
        }
        return LaunchedProduct(child: child, readyLine: line, logPath: logPath)
    }

    /// What follows `marker` in the ready line (e.g. the URL after "listening on ").
    public func readyValue(after marker: String) -> String? {
        readyLine.range(of: marker).map { String(readyLine[$0.upperBound...]) }
    }

    /// Its stderr so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, then SIGKILL if it has not stopped within `grace` seconds.
    public func stop(grace: Double = 10) {
        child.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(child.pid, &status, WNOHANG) == child.pid { return }
            usleep(50_000)
        }
        kill()
    }

    /// SIGKILL, as a machine failure would.
    public func kill() {
        child.signal(SIGKILL)
        child.wait()
    }

    /// The first line of `descriptor`, or `nil` at end of file or after the timeout.
    static func readLine(_ descriptor: Int32, timeout: Double) -> String? {
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = Int32(deadline.timeIntervalSinceNow * 1000)
            guard left > 0 else { return nil }
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&request, 1, left)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var byte: UInt8 = 0
            let n = read(descriptor, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }
}
