import CSystemCalls
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, with exact control of its file
/// descriptors, and reaped with `waitpid` on its own pid.
///
/// Foundation's `Process` learns of a child's exit through SIGCHLD, which threads
/// created by other libraries can receive and discard; its children can then stay
/// zombies and `waitUntilExit()` never returns. Waiting on the pid cannot miss.
///
/// ```swift
/// let result = try ChildProcess.run("/usr/bin/env", ["true"])
/// result.status   // .exited(0)
/// ```
///
/// The child gets exactly the descriptors it is given: stdin, stdout, stderr and
/// `extraDescriptors` (mapped to 3, 4, …); everything else is closed in the child.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var finalStatus: Status?

    /// How a process ended.
    public enum Status: Sendable, Hashable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case let .exited(code): return "exited with status \(code)"
            case let .signaled(signal): return "killed by signal \(signal)"
            }
        }

        public var succeeded: Bool { self == .exited(0) }
    }

    /// Where a standard stream of the child goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// This process's own stream.
        case inherit
        /// A descriptor of this process (it stays open here; the child gets a copy).
        case descriptor(Int32)
    }

    /// A failure to start a process.
    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `executable` (an absolute path) with `arguments`.
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; `nil` inherits this process's.
    ///   - extraDescriptors: descriptors of this process that the child receives as 3, 4, ….
    ///   - newSession: run the child in a new session (`setsid`), detached from our terminal.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit,
        extraDescriptors: [Int32] = [], newSession: Bool = false, workingDirectory: String? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // Default signal handling and an empty mask in the child, whatever this process set.
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newSession { flags |= faasten_spawn_setsid_flag() }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        // Extra descriptors are first parked above every target number, then moved into
        // place, so that no move overwrites a descriptor still to be moved.
        let park: Int32 = 1000
        for (index, fd) in extraDescriptors.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, fd, park + Int32(index))
        }
        for (target, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .inherit: break
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case let .descriptor(fd):
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        for index in extraDescriptors.indices {
            posix_spawn_file_actions_adddup2(&actions, park + Int32(index), 3 + Int32(index))
        }
        faasten_spawn_addclosefrom(&actions, 3 + Int32(extraDescriptors.count))
        if let workingDirectory {
            faasten_spawn_addchdir(&actions, workingDirectory)
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Blocks until the process ends (reaping it) and returns how it ended.
    /// Call from a thread that may block, never from an event loop.
    @discardableResult
    public func wait() -> Status {
        if let status = lock.withLock({ finalStatus }) { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            if errno == EINTR { continue }
            // ECHILD: someone else reaped it; the status is unknowable.
            let status = Status.exited(-1)
            lock.withLock { finalStatus = status }
            return status
        }
        let status: Status = (raw & 0x7F) == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(raw & 0x7F)
        lock.withLock { finalStatus = status }
        return status
    }

    /// Waits without blocking the caller's executor: the wait runs on its own thread.
    public func exited() async -> Status {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.wait()) }
        }
    }

    /// Sends a signal (ignored if the process already ended).
    public func signal(_ signal: Int32) {
        guard lock.withLock({ finalStatus == nil }) else { return }
        Glibc.kill(pid, signal)
    }

    // MARK: Run to completion

    /// What a finished process wrote.
    public struct Result: Sendable {
        public let status: Status
        public let stdout: [UInt8]
        public let stderr: [UInt8]

        public var output: String { String(decoding: stdout, as: UTF8.self) }
        public var errors: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs a process to completion, feeding `input` and collecting stdout and stderr.
    /// Blocks the calling thread. With `outputLimit`, a process that writes more than
    /// that to stdout is killed and ``OutputLimitExceeded`` thrown: for untrusted input
    /// such as a compressed image that may expand without bound.
    public static func run(
        _ executable: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil,
        workingDirectory: String? = nil, outputLimit: Int? = nil
    ) throws -> Result {
        let stdin = try RawPipe.make()
        let stdout = try RawPipe.make()
        let stderr = try RawPipe.make()
        let child: ChildProcess
        do {
            child = try ChildProcess(
                executable, arguments, environment: environment, stdin: .descriptor(stdin.read),
                stdout: .descriptor(stdout.write), stderr: .descriptor(stderr.write), workingDirectory: workingDirectory)
        } catch {
            [stdin.read, stdin.write, stdout.read, stdout.write, stderr.read, stderr.write].forEach { close($0) }
            throw error
        }
        close(stdin.read)
        close(stdout.write)
        close(stderr.write)
        // Feed and drain on their own threads so that large data cannot deadlock.
        let group = DispatchGroup()
        let collected = Collected()
        DispatchQueue.global().async(group: group) {
            RawPipe.writeAll(stdin.write, input)
            close(stdin.write)
        }
        DispatchQueue.global().async(group: group) {
            let (bytes, complete) = RawPipe.readAll(stdout.read, limit: outputLimit ?? Int.max)
            if !complete { child.signal(SIGKILL) }
            collected.setOut(bytes, complete: complete)
        }
        DispatchQueue.global().async(group: group) { collected.setErr(RawPipe.readAll(stderr.read)) }
        group.wait()
        [stdout.read, stderr.read].forEach { close($0) }
        let status = child.wait()
        if !collected.complete, let outputLimit { throw OutputLimitExceeded(limit: outputLimit) }
        return Result(status: status, stdout: collected.out, stderr: collected.err)
    }

    /// A process run with an output limit wrote more than the limit (and was killed).
    public struct OutputLimitExceeded: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "the output exceeds \(limit) bytes" }
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var outBytes: [UInt8] = []
        private var errBytes: [UInt8] = []
        private var outComplete = true
        var out: [UInt8] { lock.withLock { outBytes } }
        var err: [UInt8] { lock.withLock { errBytes } }
        var complete: Bool { lock.withLock { outComplete } }
        func setOut(_ bytes: [UInt8], complete: Bool) { lock.withLock { (outBytes, outComplete) = (bytes, complete) } }
        func setErr(_ bytes: [UInt8]) { lock.withLock { errBytes = bytes } }
    }
}

/// A pipe with both ends close-on-exec, and whole-buffer I/O on descriptors.
public enum RawPipe {
    public static func make() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard faasten_pipe_cloexec(&fds) == 0 else {
            throw ChildProcess.SpawnError(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// Writes everything, retrying on interrupts; stops silently if the reader went away.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        _ = ignoreBrokenPipes
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    /// A reader that exits early (a child refusing its input, a decompressor killed at
    /// its output limit) makes the next write fail with EPIPE; without this, SIGPIPE
    /// would kill the whole process instead.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Reads until end of file.
    public static func readAll(_ fd: Int32) -> [UInt8] {
        readAll(fd, limit: Int.max).bytes
    }

    /// Reads until end of file or until more than `limit` bytes arrived; `complete` is
    /// false in the second case (and `bytes` holds what was read so far).
    public static func readAll(_ fd: Int32, limit: Int) -> (bytes: [UInt8], complete: Bool) {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            if n == 0 { break }
            guard n <= limit - out.count else { return (out, false) }
            out.append(contentsOf: chunk[0..<n])
        }
        return (out, true)
    }
}

/// Where this process may run.
public enum ProcessAffinity {
    /// Runs every thread of this process, and every child it starts afterwards, on `cpu`.
    /// For benchmarks, so that both ends of a round trip see the same scheduling.
    public static func pin(toCPU cpu: Int) -> Bool {
        pin(toCPUs: [cpu])
    }

    /// Runs every thread of this process, and every child it starts afterwards, on `cpus`.
    public static func pin(toCPUs cpus: [Int]) -> Bool {
        let numbers = cpus.map(Int32.init)
        return faasten_pin_process_to_cpus(numbers, Int32(numbers.count)) == 0
    }
}

/// Where the calling thread may run. A child process started by a thread inherits
/// the thread's CPUs.
public enum ThreadAffinity {
    /// The CPUs the calling thread may run on.
    public static func current() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 1024)
        let count = faasten_thread_cpus(&cpus, Int32(cpus.count))
        return count > 0 ? cpus.prefix(Int(count)).map(Int.init) : []
    }

    /// Restricts the calling thread to `cpus`; `false` if the kernel refused.
    @discardableResult
    public static func set(_ cpus: [Int]) -> Bool {
        let numbers = cpus.map(Int32.init)
        return faasten_set_thread_cpus(numbers, Int32(numbers.count)) == 0
    }

    /// Runs `body` with the calling thread on `cpus`, then restores what it had.
    public static func with<T>(_ cpus: [Int], _ body: () throws -> T) rethrows -> T {
        let previous = current()
        set(cpus)
        defer { set(previous) }
        return try body()
    }
}
