import Crypto
import Foundation
import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// Where the master key comes from: the one secret the running processes hold and the
/// database, its backups and the blob directory do not. It only wraps data keys.
///
/// Written on the command line as `--master-key SPEC`: a file path (or `file:PATH`),
/// `env:NAME` (base64 in an environment variable), or `command:CMD` (a command, run with
/// `/bin/sh -c`, that prints it: how an external KMS is plugged in). A key is 32 random
/// bytes, written in base64.
public enum MasterKeySource: Sendable, Hashable, CustomStringConvertible {
    /// A file of mode 0600; `create`: made at first start when the store has no keys yet.
    case file(String, create: Bool)
    case environment(String)
    case command(String)

    /// The source `spec` names; without one, the file `master-key` in `dataDirectory`
    /// (created at first start).
    public static func parse(_ spec: String?, dataDirectory: String?) throws(KeyError) -> MasterKeySource {
        guard let spec, !spec.isEmpty else {
            guard let dataDirectory else {
                throw .badSource("--master-key is required here (a file, env:NAME or command:CMD)")
            }
            return .file((dataDirectory as NSString).appendingPathComponent("master-key"), create: true)
        }
        if spec.hasPrefix("env:") {
            let name = String(spec.dropFirst(4))
            guard !name.isEmpty else { throw .badSource("env: needs a variable name, e.g. env:FAASTEN_MASTER_KEY") }
            return .environment(name)
        }
        if spec.hasPrefix("command:") {
            let command = String(spec.dropFirst(8))
            guard !command.isEmpty else { throw .badSource("command: needs a command that prints the key") }
            return .command(command)
        }
        let path = spec.hasPrefix("file:") ? String(spec.dropFirst(5)) : spec
        // A key file named explicitly is kept by its owner: created only if it is missing
        // and the store has no keys yet, as for the default.
        return .file((path as NSString).expandingTildeInPath, create: true)
    }

    public var description: String {
        switch self {
        case let .file(path, _): return "the file \(path)"
        case let .environment(name): return "$\(name)"
        case let .command(command): return "the command `\(command)`"
        }
    }

    /// The key, or `nil` if a file source has no file yet.
    func load() throws(KeyError) -> SymmetricKey? {
        switch self {
        case let .file(path, _):
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try Self.readFile(path)
        case let .environment(name):
            guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else {
                throw .badSource("$\(name) is not set (it should hold the master key in base64)")
            }
            return try Self.decode(text, from: description)
        case let .command(command):
            let result: ChildProcess.Result
            do {
                result = try ChildProcess.run("/bin/sh", ["-c", command], outputLimit: 4096)
            } catch {
                throw .badSource("the master key command `\(command)` could not run: \(error)")
            }
            guard result.status.succeeded else {
                throw .badSource("the master key command `\(command)` failed (\(result.status)): \(result.errors.prefix(500))")
            }
            return try Self.decode(result.output, from: description)
        }
    }

    static func readFile(_ path: String) throws(KeyError) -> SymmetricKey {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .badSource("cannot read the master key file \(path): \(String(cString: strerror(errno)))") }
        guard info.st_mode & 0o077 == 0 else {
            throw .badSource(
                "the master key file \(path) may be read by others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badSource("cannot read the master key file \(path)")
        }
        return try decode(String(decoding: data, as: UTF8.self), from: "the file \(path)")
    }

    static func decode(_ text: String, from source: String) throws(KeyError) -> SymmetricKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: trimmed), bytes.count == 32 else {
            throw .badSource("\(source) does not hold a master key (32 bytes in base64)")
        }
        return SymmetricKey(data: bytes)
    }

    /// Writes `key` to `path` with mode 0600, durably (a new file: never over another).
    static func writeFile(_ key: SymmetricKey, to path: String) throws(KeyError) {
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty {
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .badSource("cannot create the master key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw .badSource("cannot write the master key file \(path)")
        }
    }
}
