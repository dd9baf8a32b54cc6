import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Memory, process-count and CPU-share limits for one sandbox.
public struct ResourceLimits: Sendable, Hashable {
    public var memoryBytes: Int64
    public var maxProcesses: Int
    /// Relative CPU weight; 100 is one ordinary share.
    public var cpuWeight: Int

    public init(memoryBytes: Int64 = 128 << 20, maxProcesses: Int = 64, cpuWeight: Int = 100) {
        self.memoryBytes = memoryBytes
        self.maxProcesses = maxProcesses
        self.cpuWeight = cpuWeight
    }
}

/// Puts sandboxes into control groups with limits: cgroup v2 where its memory, pids
/// and cpu controllers can be used, v1 otherwise. Detected once, at start.
///
/// ```
/// v2: /sys/fs/cgroup/faasten/<id>/{memory.max, memory.swap.max, pids.max, cpu.weight}
/// v1: /sys/fs/cgroup/{memory,pids,cpu}/faasten/<id>/{memory.limit_in_bytes, pids.max, cpu.shares}
/// ```
public final class ResourceLimiter: Sendable {
    public enum Mode: String, Sendable {
        case v2 = "cgroup v2"
        case v1 = "cgroup v1"
    }

    public let mode: Mode
    let root: String

    /// Why limits cannot be applied here.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    init(mode: Mode, root: String) {
        self.mode = mode
        self.root = root
    }

    /// Detects a usable hierarchy under `/sys/fs/cgroup` (or `base`, for tests).
    public static func detect(base: String = "/sys/fs/cgroup") throws -> ResourceLimiter {
        let fm = FileManager.default
        // v2: a unified hierarchy whose root offers the controllers we need.
        if let controllers = try? String(contentsOfFile: base + "/cgroup.controllers", encoding: .utf8) {
            let available = Set(controllers.split(whereSeparator: \.isWhitespace).map(String.init))
            if available.isSuperset(of: ["memory", "pids", "cpu"]) {
                let group = base + "/faasten"
                if (try? fm.createDirectory(atPath: group, withIntermediateDirectories: true)) != nil,
                    write("+memory +pids +cpu", to: base + "/cgroup.subtree_control"),
                    write("+memory +pids +cpu", to: group + "/cgroup.subtree_control")
                {
                    return ResourceLimiter(mode: .v2, root: group)
                }
            }
        }
        // v1: one hierarchy per controller.
        let v1 = ["memory", "pids", "cpu"].map { "\(base)/\($0)" }
        if v1.allSatisfy({ fm.fileExists(atPath: $0 + "/cgroup.procs") }) {
            let groups = v1.map { $0 + "/faasten" }
            if groups.allSatisfy({ (try? fm.createDirectory(atPath: $0, withIntermediateDirectories: true)) != nil && access($0, W_OK) == 0 }) {
                return ResourceLimiter(mode: .v1, root: base)
            }
        }
        throw Unavailable(
            description: "no writable cgroup hierarchy with memory, pids and cpu controllers under \(base) "
                + "(run as root, or delegate a cgroup v2 subtree to this user)")
    }

    /// Creates the group for sandbox `id` with `limits`.
    public func create(_ id: String, _ limits: ResourceLimits) throws -> ControlGroup {
        let group = ControlGroup(limiter: self, id: id)
        do {
            for directory in group.directories {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            switch mode {
            case .v2:
                try group.set("memory.max", "\(limits.memoryBytes)")
                try? group.set("memory.swap.max", "0")
                try group.set("pids.max", "\(limits.maxProcesses)")
                try group.set("cpu.weight", "\(max(1, min(10_000, limits.cpuWeight)))")
            case .v1:
                try group.set("memory.limit_in_bytes", "\(limits.memoryBytes)", controller: "memory")
                try? group.set("memory.memsw.limit_in_bytes", "\(limits.memoryBytes)", controller: "memory")
                try group.set("pids.max", "\(limits.maxProcesses)", controller: "pids")
                try group.set("cpu.shares", "\(max(2, limits.cpuWeight * 1024 / 100))", controller: "cpu")
            }
        } catch {
            group.remove()
            throw error
        }
        return group
    }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } >= 0
    }
}

/// One sandbox's control group (in each v1 hierarchy, or the one v2 group).
public final class ControlGroup: Sendable {
    let limiter: ResourceLimiter
    public let id: String

    init(limiter: ResourceLimiter, id: String) {
        self.limiter = limiter
        self.id = id
    }

    var directories: [String] {
        switch limiter.mode {
        case .v2: return ["\(limiter.root)/\(id)"]
        case .v1: return ["memory", "pids", "cpu"].map { "\(limiter.root)/\($0)/faasten/\(id)" }
        }
    }

    private func directory(_ controller: String?) -> String {
        switch limiter.mode {
        case .v2: return "\(limiter.root)/\(id)"
        case .v1: return "\(limiter.root)/\(controller ?? "memory")/faasten/\(id)"
        }
    }

    func set(_ file: String, _ value: String, controller: String? = nil) throws {
        let path = directory(controller) + "/" + file
        guard ResourceLimiter.write(value, to: path) else {
            throw ResourceLimiter.Unavailable(description: "cannot write \(value) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Moves process `pid` (and its future children) into the group.
    public func add(_ pid: Int32) throws {
        for directory in directories {
            guard ResourceLimiter.write("\(pid)", to: directory + "/cgroup.procs") else {
                throw ResourceLimiter.Unavailable(description: "cannot move \(pid) into \(directory): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Whether the kernel killed a process of the group at its memory limit (the
    /// `oom_kill` counter; v1's `memory.failcnt` can still read 0 right after the kill).
    public var hitMemoryLimit: Bool {
        switch limiter.mode {
        case .v2:
            let events = (try? String(contentsOfFile: directory(nil) + "/memory.events", encoding: .utf8)) ?? ""
            return events.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && !$0.hasSuffix(" 0") }
        case .v1:
            let control = (try? String(contentsOfFile: directory("memory") + "/memory.oom_control", encoding: .utf8)) ?? ""
            return control.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && !$0.hasSuffix(" 0") }
        }
    }

    /// Kills every process in the group, then removes it. Safe to call twice.
    public func remove() {
        for _ in 0..<50 {
            var busy = false
            for directory in directories {
                let procs = (try? String(contentsOfFile: directory + "/cgroup.procs", encoding: .utf8)) ?? ""
                for pid in procs.split(separator: "\n").compactMap({ Int32($0) }) {
                    kill(pid, SIGKILL)
                    busy = true
                }
            }
            if !busy { break }
            usleep(2000)
        }
        for directory in directories { rmdir(directory) }
    }
}
