import ArgumentParser
import Foundation
import FstnKit
import JSONValues
import NIOHTTP1

/// `fstn ls | cat | put | mkdir | mkfaceted | rm | ln | stat`: the labeled file system
/// through `/v1/fs/{path}`.
extension FstnCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List a directory's entries, or a faceted directory's visible facets.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "An FS path, e.g. ~ or home:<alice,alice>:photos.") var path: String
        @Option(help: "List the facets up to this label (X-Faasten-Clearance; default: no bound).") var clearance: String?

        func run() async throws {
            try await options.run { connection, output in
                var request = APIRequest(.GET, fs: path)
                if let clearance {
                    request.headers.append(("X-Faasten-Clearance", try Arguments.label("--clearance", clearance)))
                } else {
                    // Without a bound, a faceted directory lists every facet and its listing is labeled F.
                    request.advice["refused"] =
                        "if \(path) is a faceted directory, list only the facets you may see, e.g. --clearance alice,T"
                }
                let object = try await connection.json(request)
                output.result(object) { Rendering.listing(object) }
            }
        }
    }

    struct Cat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a file's bytes (GET /v1/fs/{path}?raw=true); --json prints the object.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A file's FS path.") var path: String

        func run() async throws {
            try await options.run { connection, output in
                if output.json {
                    output.print(try await connection.json(APIRequest(.GET, fs: path)))
                    return
                }
                var request = APIRequest(.GET, fs: path)
                request.query = [("raw", "true")]
                let response = try await connection.expect(request)
                // Only a file comes back raw; anything else comes back as its JSON description.
                if response.isJSON, let object = try? response.json(), let kind = object["kind"]?.string, kind != "file" {
                    throw FstnError("\(path) is a \(kind), not a file", next: Self.advice(kind: kind, path: path))
                }
                try output.bytes(response.body)
            }
        }

        static func advice(kind: String, path: String) -> String {
            switch kind {
            case "blob": return "print it with `fstn blob get \(path)`"
            case "directory", "faceted": return "list it with `fstn ls \(path)`"
            default: return "see it with `fstn stat \(path)`"
            }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a file's bytes, creating the file if it does not exist.",
            discussion: """
                Creates the file with POST /v1/fs/{path} (kind file); if the name exists, \
                overwrites it with PUT /v1/fs/{path}. For large data use `fstn blob put`.
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The file's FS path.") var path: String
        @Argument(help: "A local file to read, or - for stdin (the default).") var file: String?
        @Option(help: "The label of a new file (default: the request's current label).") var label: String?

        func run() async throws {
            try await options.run { connection, output in
                let label = try label.map { (text) throws(FstnError) in try Arguments.label("--label", text) }
                let bytes = try Self.read(file)
                var object: [String: JSONValue] = ["kind": "file", "data_base64": .string(Data(bytes).base64EncodedString())]
                if let label { object["label"] = .string(label) }
                let create = try await connection.send(APIRequest(.POST, fs: path, body: .json(.object(object))))
                if create.isSuccess {
                    let created = try create.json()
                    output.result(created) { "created \(path): file, \(bytes.count) bytes, label \(created["label"]?.readable ?? "-")" }
                    return
                }
                guard create.status == 409 else {
                    throw await connection.error(for: create, request: APIRequest(.POST, fs: path))
                }
                if label != nil { output.note("note: \(path) exists; its label stays as it is") }
                let written = try await connection.json(
                    APIRequest(.PUT, fs: path, body: .bytes(bytes, contentType: "application/octet-stream")))
                output.result(written) { "wrote \(bytes.count) bytes to \(path)" }
            }
        }

        static func read(_ file: String?) throws(FstnError) -> [UInt8] {
            guard let file, file != "-" else { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw FstnError("cannot read \(file)", next: "check the local file's path")
            }
            return [UInt8](data)
        }
    }

    struct MakeDirectory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mkdir", abstract: "Create a directory (its parent must exist).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The new directory's FS path, e.g. ~:docs.") var path: String
        @Option(help: "Its label (default: the request's current label).") var label: String?

        func run() async throws {
            try await FstnCommand.create(kind: "directory", at: path, label: label, options: options)
        }
    }

    struct MakeFaceted: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mkfaceted", abstract: "Create a faceted directory: one facet per label, made on first use.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The new faceted directory's FS path.") var path: String
        @Option(help: "Its label, if the server labels faceted directories.") var label: String?

        func run() async throws {
            try await FstnCommand.create(kind: "faceted", at: path, label: label, options: options)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove a name from its directory (DELETE /v1/fs/{path}).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The FS path to unlink.") var path: String

        func run() async throws {
            try await options.run { connection, output in
                try await connection.expect(APIRequest(.DELETE, fs: path))
                output.result(["path": .string(path), "removed": true]) { "removed \(path)" }
            }
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ln", abstract: "Link an existing object under a new name (POST /v1/fs/{path}/link).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The FS path of the object to link.") var target: String
        @Argument(help: "The new name's FS path.") var path: String

        func run() async throws {
            try await options.run { connection, output in
                let request = APIRequest(.POST, fs: path, suffix: "/link", body: .json(["target": .string(target)]))
                let response = try await connection.expect(request)
                let answer = (try? response.json()) ?? ["path": .string(path), "target": .string(target)]
                output.result(answer) { "linked \(path) -> \(target)" }
                if ["directory", "faceted", "gate"].contains(answer["kind"]?.string) {
                    output.warn(await ParentIntegrity.check(path, connection: connection))
                }
            }
        }
    }

    struct Stat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an object's kind, label and fields (GET /v1/fs/{path}; reading taints with its label).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "An FS path.") var path: String

        func run() async throws {
            try await options.run { connection, output in
                let object = try await connection.json(APIRequest(.GET, fs: path))
                output.result(object) { Rendering.lines(Rendering.objectFields(object)) }
            }
        }
    }

    /// Creates a directory or faceted directory at `path` (POST /v1/fs/{path}), with a
    /// warning if others may unlink or replace it there.
    static func create(kind: String, at path: String, label: String?, options: GlobalOptions) async throws {
        try await options.run { connection, output in
            var object: [String: JSONValue] = ["kind": .string(kind)]
            if let label { object["label"] = .string(try Arguments.label("--label", label)) }
            let request = APIRequest(.POST, fs: path, body: .json(.object(object)))
            let created = try await connection.json(request)
            output.result(created) { "created \(path): \(kind), label \(created["label"]?.readable ?? "none")" }
            output.warn(await ParentIntegrity.check(path, connection: connection))
        }
    }
}
