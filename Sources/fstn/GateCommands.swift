import ArgumentParser
import FstnKit
import JSONValues
import NIOHTTP1

/// `fstn gate create | update | show`: gates, the functions (or redirects) others invoke.
struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate", abstract: "Create, change or show a gate.",
        discussion: """
            A gate runs a function image (a blob entry holding a .tar.gz of the function's \
            directory) or redirects to another gate, with --privilege. By default only \
            holders of --privilege may invoke it and nothing is declassified: --public (or \
            --invoker-clearance) lets others invoke it, and --declassify releases what the \
            function reads to them. `fstn deploy DIR` packs, uploads and creates in one step.
            """,
        subcommands: [Create.self, Update.self, Show.self])

    @OptionGroup var options: GlobalOptions

    /// The fields of a gate as options; all optional here, checked by ``GateOptions``.
    struct Fields: ParsableArguments {
        @Option(help: "The privilege the function runs with; yours must imply it.") var privilege: String?
        @Option(help: "The FS path of the blob entry holding the function image.") var image: String?
        @Option(help: "The FS path of a gate to run instead (a redirect gate).") var redirect: String?
        @OptionGroup var access: GateAccessOptions
        @Option(help: "The runtime: python3 (default) or node.") var runtime: String?
        @Option(help: "Memory limit in MiB (default 128).") var memory: Int?
        @Option(help: "Time limit per invocation in milliseconds (default 30000).") var timeoutMs: Int?
        @Flag(inversion: .prefixedNo, help: "Never reuse a sandbox for this gate (for untrusted inputs).") var fresh: Bool?
        @Option(help: "Invocations running at once (0: the server's default).") var concurrency: Int?

        var gate: GateOptions {
            var gate = GateOptions()
            gate.privilege = privilege
            gate.image = image
            gate.redirect = redirect
            access.apply(to: &gate)
            gate.runtime = runtime
            gate.memoryMB = memory
            gate.timeoutMilliseconds = timeoutMs
            gate.fresh = fresh
            gate.concurrency = concurrency
            return gate
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a gate (POST /v1/fs/{path}, kind gate): --privilege and one of --image, --redirect.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The new gate's FS path, e.g. ~:hello.") var path: String
        @OptionGroup var fields: Fields
        @Option(help: "The gate's label (default: the request's current label).") var label: String?

        func run() async throws {
            try await options.run { connection, output in
                var gate = fields.gate
                gate.label = label
                let created = try await connection.json(APIRequest(.POST, fs: path, body: .json(try gate.newObject())))
                output.result(created) {
                    GateAccess.following("created gate \(path), label \(created["label"]?.readable ?? "-")", object: created)
                }
                output.warn(await ParentIntegrity.check(path, connection: connection))
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the given fields of a gate (PATCH /v1/fs/{path}); its label stays.",
            discussion: "An option not given leaves its field as it is; the defaults named below are a new gate's.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The gate's FS path.") var path: String
        @OptionGroup var fields: Fields

        func run() async throws {
            try await options.run { connection, output in
                let updated = try await connection.json(APIRequest(.PATCH, fs: path, body: .json(try fields.gate.update())))
                output.result(updated) { GateAccess.following(Rendering.lines(Rendering.objectFields(updated)), object: updated) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a gate's fields (GET /v1/fs/{path}).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The gate's FS path.") var path: String

        func run() async throws {
            try await options.run { connection, output in
                let object = try await connection.json(APIRequest(.GET, fs: path))
                if let kind = object["kind"]?.string, kind != "gate" {
                    throw FstnError("\(path) is a \(kind), not a gate", next: "see it with `fstn stat \(path)`")
                }
                output.result(object) { Rendering.lines(Rendering.objectFields(object)) }
            }
        }
    }
}
