import FileSystem
import Foundation
import Labels
import Sandbox
import Store

extension Gateway {
    /// The demo's users and their passwords.
    public static let demoUsers = [("alice", "alice-demo-password"), ("bob", "bob-demo-password")]

    /// `faasten serve --demo`: the users alice and bob, and the photo-management example
    /// (examples/photos) installed as the developer `pma` in its integrity facet
    /// `home:<T,pma>`, where only pma may link or unlink: public gates (anyone may
    /// invoke them) that run with the privilege pma and declassify their results with it.
    /// Safe to run again.
    public func installDemo(examples: String) async throws -> [String] {
        var notes: [String] = []
        for (name, password) in Self.demoUsers {
            let existing = try await fileSystem.store.transaction(.read) { try $0.account(name) }
            if existing == nil {
                _ = try await accounts.register(name: name, password: password)
                notes.append("created the user \(name) (password \(password))")
            } else {
                notes.append("the user \(name) exists")
            }
        }
        let pma = Privilege(Component(try Principal(parsing: "pma")))
        var context = try SecurityContext(privilege: pma)
        let appLabel = try Label(parsing: "T,pma")
        let apps = try await fileSystem.resolve(try FSPath(parsing: "home:<T,pma>"), &context)
        let installed = try await fileSystem.list(apps, &context).contains { $0.name == "thumbnail" }
        if installed {
            notes.append("the photo app is installed")
            return notes
        }
        for (function, memory) in [("thumbnail", 256), ("timeindex", 128)] {
            let image = try FunctionImage.pack(directory: "\(examples)/photos/functions/\(function)")
            let blobs = fileSystem.blobs
            let blob = try await Blocking.run { () throws -> ExistingBlob in try blobs.store(image) }
            _ = try await fileSystem.transaction(.write, &context) { session, context throws(FSError) in
                let imageEntry = try session.create(.blob(blob), label: appLabel, named: function + ".image", in: apps, &context)
                // Public, and its results released with pma's privilege: what pma's code
                // read of the invoker's data goes back to them, vouched for by pma.
                let spec = GateSpec(
                    target: .function(runtime: "python3", image: imageEntry, memoryMB: memory, timeoutMilliseconds: 30_000),
                    privilege: pma, invokerIntegrityClearance: .true, declassify: pma.component)
                return try session.create(.gate(spec), label: appLabel, named: function, in: apps, &context)
            }
            notes.append("installed the gate home:<T,pma>:\(function)")
        }
        return notes
    }
}
