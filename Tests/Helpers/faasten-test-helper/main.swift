// Test helper processes: programs that tests start, watch and kill.
//
//   faasten-test-helper crash-writer STORE   create files crash:f0, crash:f1, … forever,
//                                            printing each number after its commit
import FileSystem
import Foundation
import Labels
import Store

func crashWriter(_ location: String) async throws -> Never {
    let store = try await StoreLocation(location).open()
    let fs = FileSystem(store: store)
    try await fs.bootstrap()
    var context = try SecurityContext(privilege: .root)
    let root = try await fs.root()
    let directory: Entry
    do {
        directory = try await fs.lookup(root, "crash", &context)
    } catch {
        directory = try await fs.create(.directory, label: .public, named: "crash", in: root, &context)
    }
    var n = 0
    while true {
        _ = try await fs.create(.file(Array("\(n)".utf8)), label: .public, named: "f\(n)", in: directory, &context)
        // Acknowledged only after the commit returned.
        FileHandle.standardOutput.write(Data("\(n)\n".utf8))
        n += 1
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, arguments[1] == "crash-writer" else {
    FileHandle.standardError.write(Data("usage: faasten-test-helper crash-writer STORE\n".utf8))
    exit(2)
}
try await crashWriter(arguments[2])
