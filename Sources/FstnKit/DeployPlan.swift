import Foundation
import Processes
import JSONValues

#if canImport(Glibc)
    import Glibc
#endif

/// What `fstn deploy DIR` does, worked out before anything is sent: where the gate and
/// its image go and which runtime runs the function.
///
/// ```swift
/// let plan = try DeployPlan(directory: "functions/hello")
/// plan.gatePath   // "~:hello"
/// plan.imagePath  // "~:hello.image"
/// plan.runtime    // "python3" (workload.py)
/// ```
public struct DeployPlan: Sendable, Equatable {
    /// Entry points by runtime, in the order they are looked for.
    public static let entryPoints: [(file: String, runtime: String)] = [
        ("workload.py", "python3"), ("workload.js", "node"), ("workload.mjs", "node"),
    ]

    public let directory: String
    public let gatePath: String
    public var imagePath: String { gatePath + ".image" }
    public let runtime: String

    /// Plans a deployment of `directory`; `gatePath` defaults to `~:<directory's name>`,
    /// `runtime` to the one its entry point implies.
    public init(directory: String, gatePath: String? = nil, runtime: String? = nil) throws(FstnError) {
        let absolute = URL(fileURLWithPath: (directory as NSString).expandingTildeInPath).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FstnError("\(directory) is not a directory", next: "give the directory that holds workload.py or workload.js")
        }
        self.directory = absolute
        if let gatePath {
            guard !gatePath.isEmpty else { throw FstnError("--path cannot be empty", next: "e.g. --path ~:hello") }
            self.gatePath = gatePath
        } else {
            self.gatePath = try Self.defaultGatePath(for: absolute)
        }
        if let runtime {
            self.runtime = runtime
        } else {
            self.runtime = try Self.detectRuntime(in: absolute)
        }
    }

    /// `~:NAME` for a directory named NAME.
    public static func defaultGatePath(for directory: String) throws(FstnError) -> String {
        let name = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        // `:` separates path components and `<` starts a facet: such a name needs --path.
        guard !name.isEmpty, name != "/", !name.contains(":"), !name.hasPrefix("<") else {
            throw FstnError(
                "cannot name a gate after the directory '\(name)'", next: "give the gate's path with --path, e.g. --path ~:hello")
        }
        return "~:" + name
    }

    /// The runtime of a function directory, from its entry point.
    public static func detectRuntime(in directory: String) throws(FstnError) -> String {
        for entry in entryPoints where FileManager.default.fileExists(atPath: directory + "/" + entry.file) {
            return entry.runtime
        }
        throw FstnError(
            "\(directory) has no \(entryPoints.map(\.file).joined(separator: ", ")) entry point",
            next: "add one, or name the runtime with --runtime")
    }

    /// Packs the directory as a `.tar.gz` in a new temporary file and returns its path
    /// (the caller removes it). Byte-code caches are left out; owners are zeroed, as
    /// `faasten fs mkgate --image @DIR` packs.
    public func pack() async throws(FstnError) -> String {
        var template = Array((NSTemporaryDirectory() + "/fstn-deploy-XXXXXX.tar.gz").utf8CString)
        let descriptor = mkstemps(&template, 7)
        guard descriptor >= 0 else { throw Credentials.systemError("cannot create a temporary file") }
        let archive = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(descriptor) }
        let status: ChildProcess.Status
        do {
            // tar's own messages go straight to our stderr: they name the file that failed.
            let tar = try ChildProcess(
                "/usr/bin/tar",
                ["--exclude=__pycache__", "--owner=0", "--group=0", "--numeric-owner", "-czf", "-", "-C", directory, "."],
                stdout: .descriptor(descriptor))
            status = await tar.exited()
        } catch {
            unlink(archive)
            throw FstnError("cannot run /usr/bin/tar: \(error)", next: "install tar (sudo apt-get install -y tar)")
        }
        guard status.succeeded else {
            unlink(archive)
            throw FstnError("tar could not pack \(directory): it \(status)", next: "check that every file in it is readable")
        }
        return archive
    }

    /// The body that creates the gate.
    public func newGate(_ options: GateOptions) throws(FstnError) -> JSONValue {
        var gate = options
        gate.image = imagePath
        gate.redirect = nil
        gate.runtime = runtime
        return try gate.newObject()
    }

    /// The body that points an existing gate at the new image (and applies the options given).
    public func gateUpdate(_ options: GateOptions) throws(FstnError) -> JSONValue {
        var gate = options
        gate.image = imagePath
        gate.redirect = nil
        gate.runtime = runtime
        gate.label = nil  // fixed at creation; it labels the image blob instead
        return try gate.update()
    }
}
