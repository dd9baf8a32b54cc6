import ArgumentParser
import FileSystem
import Foundation
import Labels
import Sandbox
import Store

extension FSCommand {
    struct MakeGate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mkgate",
            abstract: "Create a gate: a function that runs with --privilege for invokers whose privilege implies --invoker-clearance.",
            discussion: """
                --image is a blob entry's path, or @LOCAL: a function directory (packed as a \
                .tar.gz) or an image file (.tar or .tar.gz), uploaded and stored as the blob entry \
                NAME.image next to the gate, with the gate's label. Your privilege must imply \
                --privilege and --declassify. By default only holders of --privilege may invoke \
                the gate and nothing is declassified: --invoker-clearance T makes it public, and \
                --declassify releases what the function reads.
                """)
        @OptionGroup var options: FSOptions
        @Argument var path: String
        @Option(help: "The function image: @DIRECTORY, @FILE.tar.gz or a blob entry's path.") var image: String?
        @Option(help: "A redirect gate: the path of the gate to run instead of an image.") var redirect: String?
        @Option(help: "The privilege the function runs with.") var privilege: String
        @Option(
            help: "What an invoker's privilege must imply (default: --privilege, so only its holders may invoke; T lets anyone).")
        var invokerClearance: String?
        @Option(
            help: """
                Declassify results with this privilege: whatever it may read that the function read can be shown \
                to the invoker (default T: nothing is declassified).
                """)
        var declassify: String?
        @Option(help: "The gate's label (default: the context's current label).") var label: String?
        @Option(help: "The runtime: python3 or node (default: from the entry point of an @DIRECTORY image, else python3).")
        var runtime: String?
        @Option(help: "Memory limit in MiB (default \(FunctionSettings.defaultMemoryMB)).") var memory: Int?
        @Option(help: "Time limit per invocation in milliseconds (default \(FunctionSettings.defaultTimeoutMilliseconds)).") var timeoutMs: Int?
        @Flag(help: "Never reuse a sandbox for this gate (for untrusted inputs).") var fresh = false
        @Option(help: "Invocations running at once (0 or none: the engine's default).") var concurrency: Int?

        func run() async throws {
            let (parent, name) = try FSCommand.parentAndName(path)
            let label = try FSCommand.parseLabel("--label", label)
            let privilege = try FSCommand.parseComponent("--privilege", privilege)
            let clearance = try invokerClearance.map { try FSCommand.parseComponent("--invoker-clearance", $0) }
            let declassify = try declassify.map { try FSCommand.parseComponent("--declassify", $0) }
            guard (image == nil) != (redirect == nil) else { throw CommandError("give exactly one of --image and --redirect") }
            let redirect = try redirect.map(FSCommand.parse)
            let upload = try image.flatMap { $0.hasPrefix("@") ? try FSCommand.packImage(String($0.dropFirst())) : nil }
            let imagePath = try image.flatMap { $0.hasPrefix("@") ? nil : try FSCommand.parse($0) }
            let directory = image.flatMap { $0.hasPrefix("@") ? (String($0.dropFirst()) as NSString).expandingTildeInPath : nil }
            let runtime = runtime ?? directory.flatMap(GuestRuntime.runtimeName(forFunctionIn:))
            let (memory, timeout, fresh, concurrency) = (memory, timeoutMs, fresh, concurrency)
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                // The uploaded image is stored first (blobs are immutable and unnamed until
                // linked); the image entry and the gate are created in one transaction, so
                // a refused gate leaves no image entry behind.
                let blob = try upload.map { (bytes) throws(FSError) in try fs.blobs.store(bytes) }
                let entry = try await fs.transaction(.write, &context) { session, context throws(FSError) in
                    let directory = try session.resolve(parent, &context)
                    let target: GateSpec.Target
                    if let redirect {
                        target = .redirect(try session.resolve(redirect, &context))
                    } else {
                        let imageEntry: Entry
                        if let blob {
                            imageEntry = try session.create(.blob(blob), label: label, named: name + ".image", in: directory, &context)
                        } else {
                            imageEntry = try session.resolve(imagePath!, &context)
                        }
                        target = .function(
                            runtime: runtime, image: imageEntry, memoryMB: memory, timeoutMilliseconds: timeout, fresh: fresh,
                            concurrency: concurrency)
                    }
                    let spec = GateSpec(
                        target: target, privilege: Privilege(privilege), invokerIntegrityClearance: clearance, declassify: declassify)
                    return try session.create(.gate(spec), label: label, named: name, in: directory, &context)
                }
                return (.nothing, fs.stat(entry))
            }
        }
    }

    struct MakeService: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mksvc",
            abstract: "Create a service: an external HTTP endpoint functions may call.",
            discussion: """
                A call sends the caller's data out only if the caller's label, downgraded with
                --privilege, keeps no secrecy; afterwards the caller is tainted with --taint.
                {name} in --url is filled from the call's parameters. Your privilege must imply
                --privilege.
                """)
        @OptionGroup var options: FSOptions
        @Argument var path: String
        @Option(help: "The URL template, e.g. https://api.example.com/v1/{city}.") var url: String
        @Option(help: "HEAD, GET, POST, PUT or DELETE.") var verb: String = "GET"
        @Option(help: "Declassifies what is sent (not kept).") var privilege: String
        @Option(help: "What a caller's privilege must imply (default T: anyone).") var invokerClearance: String = "T"
        @Option(help: "The label of what comes back.") var taint: String
        @Option(name: .customLong("header"), help: "A header NAME:VALUE sent with every request (repeatable).")
        var headers: [String] = []
        @Option(help: "The service's label (default: the context's current label).") var label: String?

        func run() async throws {
            guard let verb = HTTPVerb(rawValue: verb.uppercased()) else {
                throw CommandError("--verb: one of \(HTTPVerb.allCases.map(\.rawValue).joined(separator: ", ")), not \(verb)")
            }
            var headerMap: [String: String] = [:]
            for header in headers {
                guard let colon = header.firstIndex(of: ":"), colon != header.startIndex else {
                    throw CommandError("--header takes NAME:VALUE, not '\(header)'")
                }
                headerMap[String(header[..<colon])] = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let service = Service(
                privilege: Privilege(try FSCommand.parseComponent("--privilege", privilege)),
                invokerIntegrityClearance: try FSCommand.parseComponent("--invoker-clearance", invokerClearance),
                taint: try FSCommand.parseLabel("--taint", taint)!, url: url, verb: verb, headers: headerMap)
            try await FSCommand.create(.service(service), at: path, label: label, options: options)
        }
    }

    static func parseLabel(_ option: String, _ text: String?) throws -> Label? {
        guard let text else { return nil }
        do { return try Label(parsing: text) } catch { throw CommandError("\(option): \(error)") }
    }

    static func parseComponent(_ option: String, _ text: String) throws -> Component {
        do { return try Component(parsing: text) } catch { throw CommandError("\(option): \(error)") }
    }

    /// The bytes of a function image: a directory packed as .tar.gz, or a file as it is.
    static func packImage(_ location: String) throws -> [UInt8] {
        let path = (location as NSString).expandingTildeInPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("--image: no file or directory at \(location)")
        }
        guard isDirectory.boolValue else {
            guard let data = FileManager.default.contents(atPath: path) else { throw CommandError("--image: cannot read \(location)") }
            return [UInt8](data)
        }
        do {
            return try FunctionImage.pack(directory: path)
        } catch {
            throw CommandError("--image: \(error)")
        }
    }
}
