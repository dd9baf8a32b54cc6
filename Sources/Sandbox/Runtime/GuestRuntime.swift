import Foundation
import Processes

/// A language runtime as a sandbox sees it: the host files bound read-only, and the
/// command that starts the guest loop.
public struct GuestRuntime: Sendable {
    /// `python3` or `node`.
    public let name: String
    /// argv inside the sandbox.
    public let command: [String]
    /// Host path → sandbox path, bound read-only.
    public let binds: [Bind]
    public let environment: [String: String]

    public struct Bind: Sendable, Hashable {
        public let source: String
        public let destination: String
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
        let guest = runtimes + "/python"
        guard FileManager.default.fileExists(atPath: guest + "/faasten_runtime.py") else {
            throw SandboxError.setup("\(guest)/faasten_runtime.py is missing")
        }
        let binary = URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw SandboxError.setup("/usr/bin/python3 is missing; install it with: sudo apt-get install -y python3")
        }
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
            command: ["/usr/bin/python3", "-I", "-S", "-B", "/opt/faasten/python/faasten_runtime.py"],
            binds: binds,
            environment: ["PYTHONIOENCODING": "utf-8"])
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
