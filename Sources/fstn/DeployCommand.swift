import ArgumentParser
import Foundation
import FstnKit
import JSONValues
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

extension FstnCommand {
    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pack a function directory, upload it and create (or update) its gate.",
            discussion: """
                Packs DIR as a .tar.gz (without __pycache__), uploads it to the blob entry \
                GATEPATH.image (PUT /v1/blobs/{path}), then creates the gate with POST \
                /v1/fs/{path}, or, if it exists, points it at the new image with PATCH. \
                The runtime is python3 for workload.py, node for workload.js or workload.mjs. \
                A new gate is closed by default: only holders of its privilege may invoke it \
                and nothing is declassified; --public and --declassify open it.
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The function's directory.") var directory: String
        @Option(name: .customLong("path"), help: "The gate's FS path (default: ~:<DIR's name>).") var gatePath: String?
        @Option(help: "The privilege the function runs with (default: your principal).") var privilege: String?
        @Option(help: "The label of the gate and its image (default: the request's current label).") var label: String?
        @Option(help: "Memory limit in MiB (default 128).") var memory: Int?
        @OptionGroup var access: GateAccessOptions
        @Option(help: "The runtime (default: from the entry point).") var runtime: String?

        func run() async throws {
            try await options.run { connection, output in
                let plan = try DeployPlan(directory: directory, gatePath: gatePath, runtime: runtime)
                let label = try label.map { (text) throws(FstnError) in try Arguments.label("--label", text) }
                var gate = GateOptions()
                access.apply(to: &gate)
                gate.memoryMB = memory
                gate.label = label
                // Checked before packing and uploading, so a typo costs nothing.
                if let privilege {
                    gate.privilege = privilege
                } else {
                    gate.privilege = try Self.principal(of: try await connection.requireSession())
                }
                let newGate = try plan.newGate(gate)
                gate.privilege = privilege  // an update changes the privilege only when asked to
                let update = try plan.gateUpdate(gate)

                let archive = try await plan.pack()
                defer { unlink(archive) }
                let image = try await BlobCommand.upload(file: archive, to: plan.imagePath, label: label, connection: connection)
                let created = try await connection.send(APIRequest(.POST, fs: plan.gatePath, body: .json(newGate)))
                let object: JSONValue
                if created.isSuccess {
                    object = try created.json()
                } else if created.status == 409 {
                    object = try await connection.json(APIRequest(.PATCH, fs: plan.gatePath, body: .json(update)))
                } else {
                    throw await connection.error(for: created, request: APIRequest(.POST, fs: plan.gatePath))
                }
                var result: [String: JSONValue] = ["gate": object, "image": image, "created": .bool(created.isSuccess)]
                if let access = GateAccess(object: object) { result["access"] = .string(access.description) }
                output.result(.object(result)) {
                    let verb = created.isSuccess ? "created" : "updated"
                    let size = image["size"]?.readable ?? "?"
                    return GateAccess.following(
                        "\(verb) gate \(plan.gatePath) (runtime \(plan.runtime), image \(plan.imagePath), \(size) bytes)", object: object)
                }
                if created.isSuccess { output.warn(await ParentIntegrity.check(plan.gatePath, connection: connection)) }
                if !output.json { output.note("invoke it with: fstn invoke \(plan.gatePath)") }
            }
        }

        static func principal(of session: SavedSession) throws(FstnError) -> String {
            guard let principal = session.principal else {
                throw FstnError("the saved session does not name its principal", next: "give --privilege, or run `fstn login NAME` again")
            }
            return principal
        }
    }
}
