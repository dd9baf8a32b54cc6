import ArgumentParser
import FileSystem
import Foundation
import Labels
import Store

/// `faasten fs blob put | get`: blobs behind labeled blob entries.
struct BlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blob", abstract: "Store stdin as a blob behind a labeled entry, or print a blob.",
        subcommands: [Put.self, Get.self])

    @OptionGroup var options: FSOptions

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store stdin as a blob and create a blob entry for it at PATH (or re-point it with --replace).")
        @OptionGroup var options: FSOptions
        @Argument var path: String
        @Option(help: "The new entry's label (default: the context's current label).") var label: String?
        @Flag(help: "Re-point an existing blob entry instead of creating one.") var replace = false

        func run() async throws {
            let (parent, name) = try FSCommand.parentAndName(path)
            let label = try label.map { text in
                do { return try Label(parsing: text) } catch { throw CommandError("--label: \(error)") }
            }
            let replace = replace
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let blob = try BlobCommand.upload(from: FileHandle.standardInput, to: fs.blobs)
                let directory = try await fs.resolve(parent, &context)
                let entry: Entry
                if replace {
                    entry = try await fs.lookup(directory, name, &context)
                    try await fs.update(blob: entry, to: blob, &context)
                } else {
                    entry = try await fs.create(.blob(blob), label: label, named: name, in: directory, &context)
                }
                return (.message(blob.name.hex), fs.stat(entry))
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the blob behind a blob entry (taints with its label).")
        @OptionGroup var options: FSOptions
        @Argument var path: String

        func run() async throws {
            let path = try FSCommand.parse(path)
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let entry = try await fs.resolve(path, &context)
                let reader = try await fs.openBlob(entry, &context)
                do {
                    return (.bytes(try reader.readAll()), fs.stat(entry))
                } catch {
                    throw .storage("\(error)")
                }
            }
        }
    }

    /// Streams a file handle into a new blob, a chunk at a time.
    static func upload(from handle: FileHandle, to blobs: any BlobStore) throws(FSError) -> ExistingBlob {
        try blobs.store(writing: { upload in
            while true {
                let chunk = handle.readData(ofLength: 1 << 20)
                if chunk.isEmpty { break }
                try upload.write([UInt8](chunk))
            }
        })
    }
}
