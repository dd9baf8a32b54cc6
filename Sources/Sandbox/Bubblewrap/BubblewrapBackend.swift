import CloudCalls
import Foundation
import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// Sandboxes made with bubblewrap: every namespace (user, pid, net with loopback
/// only, ipc, uts, mount, cgroup), no capabilities, a new session, killed with its
/// parent; only the runtime's files and the function (at `/srv`) bound read-only, on a
/// read-only root; a size-limited `/tmp`; the seccomp allowlist of the runtime
/// (``GuestRuntime/seccomp``); memory, process and CPU limits in a control group; an
/// unprivileged uid.
///
/// As root, bubblewrap itself runs under an unprivileged uid (`setpriv`), so that
/// uid 0 inside is not root outside; each sandbox gets its own uid.
public final class BubblewrapBackend: SandboxBackend, @unchecked Sendable {
    public let name = "bubblewrap"
    let bwrap: String
    let setpriv: String?
    let limiter: ResourceLimiter?
    let syscalls: SyscallTable
    /// Each known runtime's filter, compiled once (``SeccompPolicy/runtimes``).
    let seccompPrograms: [SeccompPolicy: [UInt8]]
    private let lock = NSLock()
    private var serial = 0

    /// First host uid given to sandboxes when running as root (one per sandbox, cycling).
    public static let firstSandboxUID: UInt32 = 200_000
    public static let sandboxUIDCount: UInt32 = 50_000

    /// Checks that bubblewrap, the seccomp filters and resource limits are available.
    /// Without cgroups, `requireLimits: false` runs sandboxes without memory, process
    /// and CPU limits (development machines only).
    public init(requireLimits: Bool = true) throws(SandboxError) {
        guard let bwrap = ["/usr/bin/bwrap", "/usr/local/bin/bwrap"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw .setup("bubblewrap is not installed; install it with: sudo apt-get install -y bubblewrap")
        }
        self.bwrap = bwrap
        if getuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                throw .setup("setpriv is missing; install it with: sudo apt-get install -y util-linux")
            }
            setpriv = "/usr/bin/setpriv"
        } else {
            setpriv = nil
        }
        // Monitors write to pipes whose reader (a guest) may die at any time: that must be
        // an error on the write, not a SIGPIPE that kills this process.
        signal(SIGPIPE, SIG_IGN)
        guard let table = SyscallTable.native else { throw .setup("no seccomp system call table for this architecture") }
        syscalls = table
        var programs: [SeccompPolicy: [UInt8]] = [:]
        for policy in SeccompPolicy.runtimes {
            programs[policy] = try Self.compile(policy, table)
        }
        seccompPrograms = programs
        do {
            limiter = try ResourceLimiter.detect()
        } catch {
            if requireLimits { throw .setup("\(error)") }
            limiter = nil
        }
    }

    static func compile(_ policy: SeccompPolicy, _ table: SyscallTable) throws(SandboxError) -> [UInt8] {
        do {
            return try SeccompCompiler.compile(policy, table: table)
        } catch {
            throw .setup("the seccomp filter for \(policy.name): \(error)")
        }
    }

    /// How limits are enforced: `cgroup v1`, `cgroup v2`, or `none`.
    public var limitMode: String { limiter?.mode.rawValue ?? "none" }

    public func launch(_ spec: SandboxSpec) throws(SandboxError) -> any Sandbox {
        let number = lock.withLock { () -> Int in
            serial += 1
            return serial
        }
        let id = "\(getpid())-\(number)"
        var descriptors: [Int32] = []
        func close(_ fds: [Int32]) { fds.forEach { _ = Glibc.close($0) } }
        do {
            // The channel: a pipe each way (a round trip costs ~4 µs less than on a
            // socketpair here); the guest reads fd 3 and writes fd 4.
            let toGuest = try RawPipe.make()
            let fromGuest = try RawPipe.make()
            descriptors += [toGuest.read, toGuest.write, fromGuest.read, fromGuest.write]
            let seccomp = try RawPipe.make()
            descriptors += [seccomp.read, seccomp.write]
            let program = try seccompPrograms[spec.runtime.seccomp] ?? Self.compile(spec.runtime.seccomp, syscalls)
            RawPipe.writeAll(seccomp.write, program)
            _ = Glibc.close(seccomp.write)
            descriptors.removeAll { $0 == seccomp.write }
            let block = try RawPipe.make()
            let info = try RawPipe.make()
            descriptors += [block.read, block.write, info.read, info.write]

            let group = try limiter.map { limiter throws(SandboxError) -> ControlGroup in
                do {
                    return try limiter.create("sandbox-\(id)", spec.limits)
                } catch {
                    throw .setup("\(error)")
                }
            }
            let uid = Self.firstSandboxUID + UInt32(number) % Self.sandboxUIDCount
            let arguments = command(spec, uid: uid)
            let child: ChildProcess
            do {
                child = try ChildProcess(
                    arguments[0], Array(arguments.dropFirst()), environment: [:], stdin: .null,
                    stdout: spec.output.map { .descriptor($0) } ?? .null, stderr: spec.output.map { .descriptor($0) } ?? .null,
                    extraDescriptors: [toGuest.read, fromGuest.write, seccomp.read, block.read, info.write], newSession: true)
            } catch {
                group?.remove()
                throw SandboxError.launch("\(error)")
            }
            close([toGuest.read, fromGuest.write, seccomp.read, block.read, info.write])
            descriptors = [toGuest.write, fromGuest.read, block.write, info.read]
            let sandboxPID: Int32
            do {
                sandboxPID = try Self.childPID(from: info.read, deadline: .now + .seconds(10))
                try group?.add(sandboxPID)
            } catch {
                child.signal(SIGKILL)
                child.wait()
                group?.remove()
                throw SandboxError.launch("\(error)")
            }
            // Now inside its control group: let it run the runtime.
            RawPipe.writeAll(block.write, [1])
            close([block.write, info.read])
            descriptors = []
            return BubblewrapSandbox(
                id: id, channel: FrameChannel(input: fromGuest.read, output: toGuest.write),
                descriptors: [fromGuest.read, toGuest.write], process: child, sandboxPID: sandboxPID, group: group)
        } catch let error as SandboxError {
            close(descriptors)
            throw error
        } catch {
            close(descriptors)
            throw .launch("\(error)")
        }
    }

    /// The full command: [setpriv …] bwrap … runtime.
    func command(_ spec: SandboxSpec, uid: UInt32) -> [String] {
        var command: [String] = []
        if let setpriv {
            command += [setpriv, "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--inh-caps=-all", "--"]
        }
        command += [
            bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "1000", "--gid", "1000", "--hostname", "faasten",
            "--seccomp", "5", "--block-fd", "6", "--info-fd", "7",
            "--proc", "/proc", "--dev", "/dev",
            "--size", "\(spec.temporaryBytes)", "--tmpfs", "/tmp",
        ]
        for bind in spec.runtime.binds {
            command += ["--ro-bind", bind.source, bind.destination]
        }
        // The root is bubblewrap's own tmpfs: made read-only once everything is mounted,
        // so /tmp is the only place a function can write.
        command += ["--ro-bind", spec.functionDirectory, "/srv", "--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
        var environment = spec.runtime.environment
        environment["HOME"] = "/tmp"
        environment["LANG"] = "C.UTF-8"
        environment["PATH"] = "/usr/bin"
        environment["FAASTEN_CHANNEL_FD"] = "3"
        environment["FAASTEN_CHANNEL_OUT_FD"] = "4"
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            command += ["--setenv", key, value]
        }
        return command + ["--"] + spec.runtime.command(memoryBytes: spec.limits.memoryBytes)
    }

    /// Reads bubblewrap's `--info-fd` JSON (`{"child-pid": N, …}`) up to its closing brace.
    static func childPID(from fd: Int32, deadline: ContinuousClock.Instant) throws -> Int32 {
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while !text.contains(UInt8(ascii: "}")) {
            let remaining = deadline - .now
            guard remaining > .zero else { throw SandboxError.launch("bubblewrap did not report its child in time") }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining.components.seconds * 1000 + 10))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SandboxError.launch("bubblewrap exited before starting the sandbox") }
            text += chunk[0..<n]
        }
        struct Info: Decodable {
            let childPID: Int32
            enum CodingKeys: String, CodingKey { case childPID = "child-pid" }
        }
        guard let end = text.firstIndex(of: UInt8(ascii: "}")),
            let info = try? JSONDecoder().decode(Info.self, from: Data(text[...end]))
        else { throw SandboxError.launch("unreadable bubblewrap info: \(String(decoding: text, as: UTF8.self))") }
        return info.childPID
    }
}

/// One running bubblewrap sandbox.
final class BubblewrapSandbox: Sandbox, @unchecked Sendable {
    let id: String
    let channel: FrameChannel
    private let descriptors: [Int32]
    private let process: ChildProcess
    private let sandboxPID: Int32
    private let group: ControlGroup?
    private let lock = NSLock()
    private var terminated = false

    init(id: String, channel: FrameChannel, descriptors: [Int32], process: ChildProcess, sandboxPID: Int32, group: ControlGroup?) {
        self.id = id
        self.channel = channel
        self.descriptors = descriptors
        self.process = process
        self.sandboxPID = sandboxPID
        self.group = group
    }

    deinit { terminate() }

    var hitMemoryLimit: Bool { group?.hitMemoryLimit ?? false }

    func kill() {
        guard !lock.withLock({ terminated }) else { return }
        // The sandbox's pid 1 takes its whole pid namespace with it.
        Glibc.kill(sandboxPID, SIGKILL)
        process.signal(SIGKILL)
    }

    func terminate() {
        let first = lock.withLock { () -> Bool in
            defer { terminated = true }
            return !terminated
        }
        guard first else { return }
        // The sandbox's pid 1 takes its whole pid namespace with it.
        Glibc.kill(sandboxPID, SIGKILL)
        process.signal(SIGKILL)
        process.wait()
        group?.remove()
        descriptors.forEach { close($0) }
    }
}
