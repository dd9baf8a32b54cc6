import Foundation
import Processes

/// A language runtime as a sandbox sees it: the host files bound read-only, and the
/// command that starts the guest loop.
public struct GuestRuntime: Sendable {
    /// `python3` or `node`.
    public let name: String
    /// argv inside the sandbox (before the arguments sized from the memory limit; see
    /// ``command(memoryBytes:)``).
    public let command: [String]
    /// Host path → sandbox path, bound read-only.
    public let binds: [Bind]
    public let environment: [String: String]
    /// How the interpreter is told the sandbox's memory limit.
    public let heap: HeapSizing
    /// The system calls it may make (``SeccompPolicy/python``, ``SeccompPolicy/node``).
    public let seccomp: SeccompPolicy

    /// Arguments an interpreter needs to stay within the sandbox's memory limit.
    public enum HeapSizing: Sendable, Hashable {
        /// None: the interpreter allocates as the limit allows (CPython).
        case unsized
        /// V8's heap limits, derived from the memory limit (see ``nodeHeapArguments(memoryBytes:)``).
        case v8
    }

    public init(
        name: String, command: [String], binds: [Bind], environment: [String: String], heap: HeapSizing = .unsized,
        seccomp: SeccompPolicy
    ) {
        self.name = name
        self.command = command
        self.binds = binds
        self.environment = environment
        self.heap = heap
        self.seccomp = seccomp
    }

    /// argv inside a sandbox whose memory limit is `memoryBytes`.
    public func command(memoryBytes: Int64) -> [String] {
        switch heap {
        case .unsized:
            return command
        case .v8:
            return [command[0]] + Self.nodeHeapArguments(memoryBytes: memoryBytes) + command.dropFirst()
        }
    }

    public struct Bind: Sendable, Hashable {
        public let source: String
        public let destination: String

        public init(source: String, destination: String) {
            self.source = source
            self.destination = destination
        }
    }

    /// Entry points of a function directory and the runtime each implies, in the order
    /// they are looked for (`fstn deploy` has the same list, in FstnKit's `DeployPlan`).
    public static let entryPoints: [(file: String, runtime: String)] = [
        ("workload.py", "python3"), ("workload.js", "node"), ("workload.mjs", "node"),
    ]

    /// The runtime a function directory is written for, from its entry point; `nil`
    /// if it has none.
    public static func runtimeName(forFunctionIn directory: String) -> String? {
        entryPoints.first { FileManager.default.fileExists(atPath: directory + "/" + $0.file) }?.runtime
    }

    /// The runtime named `name` (`python3` or `node`), from the runtimes directory.
    public static func named(_ name: String, runtimes: String) throws -> GuestRuntime {
        switch name {
        case "python3": return try python(runtimes: runtimes)
        case "node": return try node(runtimes: runtimes)
        default: throw SandboxError.setup("no runtime named \(name): the runtimes are python3 and node")
        }
    }

    /// Where the guest runtimes (`runtimes/python`, …) are: `$FAASTEN_RUNTIMES`, or the
    /// `runtimes` directory found walking up from the executable (the source tree).
    public static func runtimesDirectory() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["FAASTEN_RUNTIMES"], !configured.isEmpty {
            return configured
        }
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<8 {
            let candidate = directory.appendingPathComponent("runtimes")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("python/faasten_runtime.py").path) {
                return candidate.path
            }
            directory = directory.deletingLastPathComponent()
        }
        throw SandboxError.setup("cannot find the guest runtimes: set FAASTEN_RUNTIMES to the repository's runtimes directory")
    }

    /// `/usr/bin/python3` (Debian's, which starts several times faster than a pyenv
    /// shim), its standard library and exactly the shared libraries it and its
    /// extension modules load, plus the guest loop at `/opt/faasten/python`.
    public static func python(runtimes: String) throws -> GuestRuntime {
        let (guest, binary) = try locate(guest: runtimes + "/python", loop: "faasten_runtime.py", interpreter: "/usr/bin/python3", package: "python3")
        let version = URL(fileURLWithPath: binary).lastPathComponent  // python3.11
        let stdlib = "/usr/lib/\(version)"
        guard FileManager.default.fileExists(atPath: stdlib + "/os.py") else {
            throw SandboxError.setup("the standard library of \(binary) is not at \(stdlib)")
        }
        let extensions = ((try? FileManager.default.contentsOfDirectory(atPath: stdlib + "/lib-dynload")) ?? [])
            .filter { $0.hasSuffix(".so") }.map { stdlib + "/lib-dynload/" + $0 }
        var binds = [Bind(source: binary, destination: "/usr/bin/python3"), Bind(source: stdlib, destination: stdlib)]
        let libraries = try sharedLibraries(of: [binary] + extensions)
        binds += libraries + baseLibraries(besides: libraries)
        binds.append(Bind(source: guest, destination: "/opt/faasten/python"))
        return GuestRuntime(
            name: "python3",
            // -u: stdout and stderr share one pipe to the host, so they are written through
            // unbuffered and the logs keep the order the function wrote them in.
            command: ["/usr/bin/python3", "-I", "-S", "-B", "-u", "/opt/faasten/python/faasten_runtime.py"],
            binds: binds,
            environment: ["PYTHONIOENCODING": "utf-8"],
            seccomp: .python)
    }

    /// Node.js: `/usr/bin/node` and exactly the shared libraries it loads (Debian's build
    /// links `libnode`, ICU, OpenSSL, libuv and more; NodeSource's links only libc and
    /// libstdc++), the JavaScript files Debian's build loads at start instead of
    /// embedding them (its "shared builtins": acorn, cjs-module-lexer, undici), and the
    /// guest loop at `/opt/faasten/node`. Two more binds let functions be written as the
    /// SDK documents:
    ///
    /// - `/node_modules/faasten`: the SDK, found by `import … from "faasten"` from
    ///   anywhere under `/srv` (and by the guest loop, so both share one module);
    /// - `/package.json` (`{"type": "module"}`): `/srv/workload.js` is an ES module
    ///   unless the function's own `/srv/package.json` says otherwise (Node 18 has no
    ///   other way to say so).
    ///
    /// Flags: `--no-addons` (no native addons: native code has no business in a
    /// JavaScript function, and its system calls would meet the same seccomp allowlist
    /// and namespaces anyway), the V8 heap sized from the memory limit
    /// (``nodeHeapArguments(memoryBytes:)``), and one V8 worker thread (the sandbox
    /// shares one CPU with the thread serving it; more only cost memory and
    /// processes). `NODE_OPTIONS` is empty: nothing from the host's environment
    /// reaches the interpreter.
    public static func node(runtimes: String) throws -> GuestRuntime {
        let (guest, binary) = try locate(guest: runtimes + "/node", loop: "faasten_runtime.mjs", interpreter: "/usr/bin/node", package: "nodejs")
        var binds = [Bind(source: binary, destination: "/usr/bin/node")]
        binds += try sharedLibraries(of: [binary])
        binds += try nodeSharedBuiltins(binary)
        binds += [
            Bind(source: guest, destination: "/opt/faasten/node"),
            Bind(source: guest + "/faasten", destination: "/node_modules/faasten"),
            Bind(source: guest + "/sandbox-root-package.json", destination: "/package.json"),
        ]
        return GuestRuntime(
            name: "node",
            command: ["/usr/bin/node", "--no-addons", "--v8-pool-size=1", "/opt/faasten/node/faasten_runtime.mjs"],
            binds: binds,
            environment: ["NODE_OPTIONS": ""],
            heap: .v8,
            seccomp: .node)
    }

    /// The guest loop's directory (checked to hold `loop`) and the interpreter's real
    /// path (behind its symlinks), or what to install.
    static func locate(guest: String, loop: String, interpreter: String, package: String) throws(SandboxError) -> (String, String) {
        guard FileManager.default.fileExists(atPath: guest + "/" + loop) else {
            throw .setup("\(guest)/\(loop) is missing")
        }
        let binary = URL(fileURLWithPath: interpreter).resolvingSymlinksInPath().path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw .setup("\(interpreter) is missing; install it with: sudo apt-get install -y \(package)")
        }
        return (guest, binary)
    }

    /// V8's heap limits for a sandbox of `memoryBytes`: without them V8 sizes its heap
    /// from the host's memory (it cannot see the sandbox's cgroup) and lets garbage
    /// pile up until the kernel kills the sandbox at its limit. The old generation gets
    /// three quarters of what is left after `nodeBaselineMB` (the interpreter itself),
    /// at least 16 MiB; each young-generation semi-space 1/64 of the limit, 1–16 MiB.
    /// A function that outgrows its heap then ends with V8's "heap out of memory".
    public static func nodeHeapArguments(memoryBytes: Int64) -> [String] {
        let megabytes = Int(memoryBytes >> 20)
        let oldSpace = max(16, (megabytes - nodeBaselineMB) * 3 / 4)
        let semiSpace = min(16, max(1, megabytes / 64))
        return ["--max-old-space-size=\(oldSpace)", "--max-semi-space-size=\(semiSpace)"]
    }

    /// Memory Node uses before running any function code (MiB, measured: 35–40).
    static let nodeBaselineMB = 40

    /// The files a Debian-built `node` loads at start (`NODE_SHARED_BUILTIN_…_PATH` in its
    /// build configuration); it aborts without them. None for builds that embed them.
    static func nodeSharedBuiltins(_ binary: String) throws -> [Bind] {
        // An empty environment: NODE_OPTIONS and the like of whoever runs the worker must
        // not change what this trusted probe runs or prints.
        let result = try ChildProcess.run(
            binary, ["--no-addons", "-p", "(process.config.target_defaults.defines || []).join('\\n')"], environment: [:])
        guard result.status.succeeded else {
            throw SandboxError.setup("\(binary) does not start: \(result.errors)")
        }
        return result.output.split(separator: "\n").compactMap { line -> Bind? in
            guard line.hasPrefix("NODE_SHARED_BUILTIN_"), let equals = line.firstIndex(of: "=") else { return nil }
            let path = String(line[line.index(after: equals)...])
            guard path.hasPrefix("/"), FileManager.default.fileExists(atPath: path) else { return nil }
            return Bind(source: URL(fileURLWithPath: path).resolvingSymlinksInPath().path, destination: path)
        }
    }

    /// The libraries every manylinux wheel may link without bundling them (the
    /// policy's base set, without the graphical ones), so that a function may vendor
    /// wheels with native code (e.g. Pillow) into its image. System libraries, bound
    /// read-only; the seccomp filter applies to whatever calls them.
    static let manylinuxLibraries = [
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1", "libresolv.so.2",
        "libnsl.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1",
    ]

    /// Binds for the manylinux base libraries found next to the C library, besides `existing`.
    static func baseLibraries(besides existing: [Bind]) -> [Bind] {
        guard let libc = existing.first(where: { $0.destination.hasSuffix("/libc.so.6") }) else { return [] }
        let directory = (libc.destination as NSString).deletingLastPathComponent
        let bound = Set(existing.map(\.destination))
        return manylinuxLibraries.map { directory + "/" + $0 }
            .filter { !bound.contains($0) && FileManager.default.fileExists(atPath: $0) }
            .map { Bind(source: URL(fileURLWithPath: $0).resolvingSymlinksInPath().path, destination: $0) }
    }

    /// The shared libraries `ldd` finds for `files`, each bound at the path the
    /// loader looks for it (its real file behind the symlink).
    static func sharedLibraries(of files: [String]) throws -> [Bind] {
        let result = try ChildProcess.run("/usr/bin/ldd", files)
        var binds: [String: Bind] = [:]
        for line in result.output.split(separator: "\n") {
            // "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x…)" or "\t/lib64/ld-linux-x86-64.so.2 (0x…)"
            let words = line.split(separator: " ").map { $0.trimmingCharacters(in: .whitespaces) }
            let path: String?
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count {
                path = words[arrow + 1].hasPrefix("/") ? words[arrow + 1] : nil
            } else {
                path = words.first.flatMap { $0.hasPrefix("/") && !$0.hasSuffix(":") ? $0 : nil }
            }
            guard let path, binds[path] == nil else { continue }
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            binds[path] = Bind(source: real, destination: path)
        }
        guard !binds.isEmpty else { throw SandboxError.setup("ldd found no libraries for \(files.first ?? "?")") }
        return binds.values.sorted { $0.destination < $1.destination }
    }
}
