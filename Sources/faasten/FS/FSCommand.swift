import ArgumentParser
import FileSystem
import Foundation
import Labels
import Store

/// `faasten fs`: the labeled file system, for operators, acting with an explicit privilege.
struct FSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fs",
        abstract: "Inspect and change the labeled file system of a data directory or PostgreSQL store.",
        discussion: """
            Every command but init and adduser acts in a security context: --as PRIVILEGE,
            optionally --start-label and --clearance. Reads taint the context; writes are
            checked against it. Output is shown only if the context's final label may be
            released to PRIVILEGE; otherwise the command says which labels refused.
            Paths: home:<alice,alice>:photos, ~ (your home facet), % (the facet of the
            current label). Exit status: 0 ok, 1 refused by a rule, 2 other errors.
            """,
        subcommands: [
            Init.self, AddUser.self, List.self, Cat.self, Write.self, MakeDirectory.self, MakeFile.self,
            MakeFaceted.self, MakeGate.self, MakeService.self, Facets.self, Link.self, Remove.self, BlobCommand.self, Stat.self,
        ]
    )

    @OptionGroup var options: FSOptions

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the root, home and the system facet if absent.")
        @OptionGroup var options: FSOptions

        func run() async throws {
            try await FSRunner(options: options).runAsSystem { fs throws(FSError) in
                try await fs.bootstrap() ? "initialized" : "already initialized"
            }
        }
    }

    struct AddUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "adduser", abstract: "Create a user's private home facet home:<NAME,NAME>.")
        @OptionGroup var options: FSOptions
        @Argument(help: "The user's principal, e.g. alice.") var name: String

        func run() async throws {
            let principal: Principal
            do {
                principal = try Principal(parsing: name)
            } catch {
                throw CommandError("NAME: \(error)")
            }
            try await FSRunner(options: options).runAsSystem { fs throws(FSError) in
                try await fs.addUser(principal)
                return "home:<\(principal),\(principal)>"
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a directory (taints with its label).")
        @OptionGroup var options: FSOptions
        @Argument(help: "The directory (default: the root, which has no path of its own).") var path: String?

        func run() async throws {
            let path = try path.map(FSCommand.parse) ?? .root
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let entry = try await fs.resolve(path, &context)
                return (.listing(try await fs.list(entry, &context)), fs.stat(entry))
            }
        }
    }

    struct Cat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a file's bytes (taints with its label).")
        @OptionGroup var options: FSOptions
        @Argument var path: String

        func run() async throws {
            let path = try FSCommand.parse(path)
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let entry = try await fs.resolve(path, &context)
                return (.bytes(try await fs.read(file: entry, &context)), fs.stat(entry))
            }
        }
    }

    struct Write: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a file's bytes with stdin (write rule).")
        @OptionGroup var options: FSOptions
        @Argument var path: String

        func run() async throws {
            let path = try FSCommand.parse(path)
            let bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let entry = try await fs.resolve(path, &context)
                try await fs.write(file: entry, bytes, &context)
                return (.message("wrote \(bytes.count) bytes"), fs.stat(entry))
            }
        }
    }

    struct MakeDirectory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mkdir", abstract: "Create a directory.")
        @OptionGroup var options: FSOptions
        @Argument var path: String
        @Option(help: "The new directory's label (default: the context's current label).") var label: String?

        func run() async throws {
            try await FSCommand.create(.directory, at: path, label: label, options: options)
        }
    }

    struct MakeFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mkfile", abstract: "Create an empty file.")
        @OptionGroup var options: FSOptions
        @Argument var path: String
        @Option(help: "The new file's label (default: the context's current label).") var label: String?

        func run() async throws {
            try await FSCommand.create(.file([]), at: path, label: label, options: options)
        }
    }

    struct MakeFaceted: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mkfaceted", abstract: "Create a faceted directory (unlabeled; its facets are labeled).")
        @OptionGroup var options: FSOptions
        @Argument var path: String

        func run() async throws {
            try await FSCommand.create(.facetedDirectory, at: path, label: nil, options: options)
        }
    }

    struct Facets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the facets of a faceted directory whose labels flow to --under (taints with it).")
        @OptionGroup var options: FSOptions
        @Argument var path: String
        @Option(help: "List facets up to this label (default T,T).") var under: String?

        func run() async throws {
            let path = try FSCommand.parse(path)
            let clearance = try under.map { text in
                do { return try Label(parsing: text) } catch { throw CommandError("--under: \(error)") }
            } ?? .public
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let entry = try await fs.resolve(path, &context)
                return (.facets(try await fs.listFacets(entry, under: clearance, &context)), fs.stat(entry))
            }
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ln", abstract: "Link an existing object under a new name (modify rule on the directory).")
        @OptionGroup var options: FSOptions
        @Argument(help: "The object to link.") var target: String
        @Argument(help: "The new name's path.") var path: String

        func run() async throws {
            let target = try FSCommand.parse(target)
            let (parent, name) = try FSCommand.parentAndName(path)
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let object = try await fs.resolve(target, &context)
                let directory = try await fs.resolve(parent, &context)
                try await fs.link(directory, name, to: object, &context)
                return (.nothing, fs.stat(object))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove a name from its directory (modify rule on the directory).")
        @OptionGroup var options: FSOptions
        @Argument var path: String

        func run() async throws {
            let (parent, name) = try FSCommand.parentAndName(path)
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let directory = try await fs.resolve(parent, &context)
                try await fs.unlink(directory, name, &context)
                return (.nothing, fs.stat(directory))
            }
        }
    }

    struct Stat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an object's kind and label (without reading it).")
        @OptionGroup var options: FSOptions
        @Argument var path: String

        func run() async throws {
            let path = try FSCommand.parse(path)
            try await FSRunner(options: options).run { fs, context throws(FSError) in
                let info = fs.stat(try await fs.resolve(path, &context))
                return (.info(info), info)
            }
        }
    }

    static func parse(_ text: String) throws -> FSPath {
        do {
            return try FSPath(parsing: text)
        } catch {
            throw CommandError("PATH: \(error)")
        }
    }

    static func parentAndName(_ text: String) throws -> (FSPath, String) {
        guard let split = try parse(text).parentAndName else {
            throw CommandError("PATH must end with a name: \(text)")
        }
        return split
    }

    static func create(_ object: NewObject, at path: String, label: String?, options: FSOptions) async throws {
        let (parent, name) = try parentAndName(path)
        let label = try label.map { text in
            do { return try Label(parsing: text) } catch { throw CommandError("--label: \(error)") }
        }
        try await FSRunner(options: options).run { fs, context throws(FSError) in
            let directory = try await fs.resolve(parent, &context)
            let entry = try await fs.create(object, label: label, named: name, in: directory, &context)
            return (.nothing, fs.stat(entry))
        }
    }
}
