import Crypto
import Foundation
import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// Where sandboxes' read-only files live on the host: guest runtimes and function
/// directories, each under a name derived from its content, readable by the
/// unprivileged uids sandboxes run as (a checkout or data directory under a private
/// home would not be).
///
/// ```
/// <root>/runtimes/python-<sha256>/   a copy of runtimes/python
/// <root>/functions/<sha256>/         a function directory or an unpacked image
/// ```
///
/// Entries are written to a temporary name and renamed into place, so a directory
/// that exists is complete; they are never modified afterwards.
public final class StagingArea: Sendable {
    public let root: String

    /// Limits for unpacking function images.
    public struct ImageLimits: Sendable {
        public var maxBytes: Int64 = 1 << 30
        public var maxFiles = 100_000
        public init() {}

        /// The most an archive within these limits can take: the files, a header and
        /// padding for each, long-name and pax records, and the end blocks.
        var maxArchiveBytes: Int { Int(clamping: maxBytes) + maxFiles * 2048 + 4096 }
    }

    /// `root` defaults to `$FAASTEN_SANDBOX_FILES`, else `/var/tmp/faasten-<uid>`.
    public init(root: String? = nil) throws(SandboxError) {
        let root = root ?? ProcessInfo.processInfo.environment["FAASTEN_SANDBOX_FILES"] ?? "/var/tmp/faasten-\(geteuid())"
        self.root = root
        do {
            try FileManager.default.createDirectory(
                atPath: (root as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw .setup("cannot create the parent of \(root): \(error.localizedDescription)")
        }
        for directory in [root, root + "/runtimes", root + "/functions", root + "/tmp"] {
            if mkdir(directory, 0o711) != 0 && errno != EEXIST {
                throw .setup("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
            // Sandboxes may traverse but not list: the names are content hashes.
            chmod(directory, directory.hasSuffix("/tmp") ? 0o700 : 0o711)
        }
        var info = stat()
        guard lstat(root, &info) == 0, info.st_uid == geteuid(), (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .setup("\(root) is not a directory owned by this user")
        }
    }

    /// A read-only copy of a guest runtime (e.g. `runtimes/python`) under its content hash:
    /// the directories bound under `/opt/faasten/` are copied, and other binds of files
    /// inside them (the Node SDK at `/node_modules/faasten`) point into the copy.
    public func stage(runtime: GuestRuntime) throws(SandboxError) -> GuestRuntime {
        var copies: [(source: String, staged: String)] = []
        for bind in runtime.binds where bind.destination.hasPrefix("/opt/faasten/") {
            copies.append((bind.source, try stage(directory: bind.source, under: "runtimes", prefix: runtime.name + "-")))
        }
        let binds = runtime.binds.map { bind -> GuestRuntime.Bind in
            for copy in copies {
                if bind.source == copy.source {
                    return GuestRuntime.Bind(source: copy.staged, destination: bind.destination)
                }
                if bind.source.hasPrefix(copy.source + "/") {
                    return GuestRuntime.Bind(source: copy.staged + bind.source.dropFirst(copy.source.count), destination: bind.destination)
                }
            }
            return bind
        }
        return GuestRuntime(
            name: runtime.name, command: runtime.command, binds: binds, environment: runtime.environment, heap: runtime.heap,
            seccomp: runtime.seccomp)
    }

    /// A read-only copy of a function directory, under its content hash.
    public func stage(function directory: String) throws(SandboxError) -> String {
        try stage(directory: directory, under: "functions", prefix: "")
    }

    /// The unpacked contents of a function image (a `.tar.gz` or `.tar`), under `name`
    /// (the image's blob name): unpacked once, reused afterwards.
    public func unpack(image name: String, bytes: [UInt8], limits: ImageLimits = ImageLimits()) throws(SandboxError) -> String {
        let destination = "\(root)/functions/image-\(name)"
        if FileManager.default.fileExists(atPath: destination) { return destination }
        var archive = bytes
        if bytes.starts(with: [0x1F, 0x8B]) {
            do {
                // Bounded before tar sees it: a small gzip can expand without limit.
                let result = try ChildProcess.run("/bin/gzip", ["-dc"], input: bytes, outputLimit: limits.maxArchiveBytes)
                guard result.status.succeeded else { throw SandboxError.setup("the image is not valid gzip: \(result.errors)") }
                archive = result.stdout
            } catch let error as SandboxError {
                throw error
            } catch let error as ChildProcess.OutputLimitExceeded {
                throw .setup("bad function image: decompressed, \(error); images hold at most \(limits.maxBytes) bytes of files")
            } catch {
                throw .setup("cannot decompress the image: \(error)")
            }
        }
        let temporary = try temporaryDirectory()
        do {
            try TarArchive.extract(archive, into: temporary, limits: limits)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        return try install(temporary, at: destination)
    }

    /// The unpacked image named `name`, if it was unpacked before.
    public func unpackedImage(_ name: String) -> String? {
        let path = "\(root)/functions/image-\(name)"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    // MARK: Slots of pre-started sandboxes

    /// An empty directory for a sandbox started before it is given a function: it is
    /// bound at `/srv` and filled (``fill(slot:from:)``) when the sandbox is assigned.
    public func makeSlot() throws(SandboxError) -> String {
        let path = "\(root)/functions/slot-\(UUID().uuidString.lowercased())"
        guard mkdir(path, 0o755) == 0 else { throw .setup("cannot create \(path): \(String(cString: strerror(errno)))") }
        chmod(path, 0o755)
        return path
    }

    /// Fills a slot with a function directory: its directories are created and its
    /// files hard-linked (they are immutable, so sharing them costs nothing), and
    /// copied only where a link is impossible.
    public func fill(slot: String, from directory: String) throws(SandboxError) {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: directory) else { throw .setup("cannot read \(directory)") }
        while let relative = walker.nextObject() as? String {
            let from = directory + "/" + relative
            let to = slot + "/" + relative
            var info = stat()
            guard lstat(from, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard mkdir(to, 0o755) == 0 || errno == EEXIST else {
                    throw .setup("cannot create \(to): \(String(cString: strerror(errno)))")
                }
                chmod(to, 0o755)
            case S_IFREG:
                if link(from, to) != 0 {
                    do {
                        try fm.copyItem(atPath: from, toPath: to)
                    } catch {
                        throw .setup("cannot place \(relative) in \(slot): \(error.localizedDescription)")
                    }
                }
            default:
                continue  // staged trees hold only directories and regular files
            }
        }
    }

    // MARK: Copies

    private func stage(directory source: String, under kind: String, prefix: String) throws(SandboxError) -> String {
        let digest = try contentHash(of: source)
        let destination = "\(root)/\(kind)/\(prefix)\(digest)"
        if FileManager.default.fileExists(atPath: destination) { return destination }
        let temporary = try temporaryDirectory()
        do {
            try copyTree(from: source, to: temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .setup("cannot copy \(source): \(error)")
        }
        return try install(temporary, at: destination)
    }

    private func temporaryDirectory() throws(SandboxError) -> String {
        let path = "\(root)/tmp/\(UUID().uuidString)"
        guard mkdir(path, 0o755) == 0 else { throw .setup("cannot create \(path): \(String(cString: strerror(errno)))") }
        return path
    }

    /// Renames a finished tree into place; if another process got there first, keeps theirs.
    /// Python sources are compiled first: sandboxes cannot write byte code, and compiling
    /// the protocol module alone would cost ~50 ms at every cold start.
    private func install(_ temporary: String, at destination: String) throws(SandboxError) -> String {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") {
            _ = try? ChildProcess.run("/usr/bin/python3", ["-I", "-m", "compileall", "-q", "-j", "0", temporary])
            makeReadable(temporary)
        }
        chmod(temporary, 0o755)
        if rename(temporary, destination) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            guard FileManager.default.fileExists(atPath: destination) else {
                throw .setup("cannot install \(destination): \(String(cString: strerror(errno)))")
            }
        }
        return destination
    }

    /// Directories 0755 and files 0644 (0755 if executable), for the sandbox uids.
    private func makeReadable(_ directory: String) {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return }
        while let relative = walker.nextObject() as? String {
            let path = directory + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            chmod(path, isDirectory || info.st_mode & 0o100 != 0 ? 0o755 : 0o644)
        }
    }

    /// Regular files and directories only; symbolic links are followed (the copy has none).
    private func copyTree(from source: String, to destination: String) throws {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: source) else { throw SandboxError.setup("cannot read \(source)") }
        while let relative = walker.nextObject() as? String {
            if Self.isCache(relative) { continue }
            let from = source + "/" + relative
            let to = destination + "/" + relative
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: from, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                try fm.createDirectory(atPath: to, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } else {
                let data = try Data(contentsOf: URL(fileURLWithPath: from))
                guard fm.createFile(atPath: to, contents: data, attributes: [.posixPermissions: 0o644]) else {
                    throw SandboxError.setup("cannot write \(to)")
                }
            }
        }
    }

    /// Byte-code caches a host Python left behind are not part of a function.
    private static func isCache(_ relative: String) -> Bool {
        relative.split(separator: "/").contains("__pycache__")
    }

    /// SHA-256 over every file's relative path and bytes, in path order.
    private func contentHash(of directory: String) throws(SandboxError) -> String {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: directory) else { throw .setup("cannot read \(directory)") }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if !Self.isCache(relative), fm.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(relative)
            }
        }
        var hasher = SHA256()
        for relative in files.sorted() {
            hasher.update(data: Array(relative.utf8) + [0])
            guard let data = fm.contents(atPath: directory + "/" + relative) else { throw .setup("cannot read \(relative)") }
            hasher.update(data: withUnsafeBytes(of: UInt64(data.count).bigEndian, Array.init))
            hasher.update(data: data)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
