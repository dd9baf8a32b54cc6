import ArgumentParser
import FileSystem
import Foundation
import Gateway
import Keys
import Store

/// `faasten keys`: the master key and the data keys it wraps.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Show and rotate the master key and the data keys it wraps.",
        discussion: """
            The master key (--master-key: a file, env:NAME or command:CMD; default the file
            master-key in the data directory, made 0600 at first start) wraps the data keys kept
            in the store. Every key operation is written to the audit log. See docs/trust.md.
            """,
        subcommands: [Status.self, Rotate.self])

    /// Where the store and the master key are.
    struct Options: ParsableArguments {
        // Not `--data`: `faasten keys rotate --data` rotates the data key.
        @Option(help: "The data directory (default: $FAASTEN_DATA or ~/.local/share/faasten).") var dataDir: String?
        @Option(help: "A store location instead of the data directory's SQLite: postgres://user@host:port/db.") var store: String?
        @Option(help: "The master key: a file, env:NAME or command:CMD (default: DATA/master-key).") var masterKey: String?

        func open() async throws -> (any Store, MasterKeySource) {
            let directory = (FSOptions.dataDirectory(dataDir) as NSString).expandingTildeInPath
            let location = try store.map { try StoreLocation($0) } ?? .directory(directory)
            let source = try ServerProcess.masterKeySource(
                masterKey, dataDirectory: ServerProcess.masterKeyDirectory(for: location, dataDirectory: directory))
            let opened = try await FSOptions.open(location)
            return (opened, source)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The master key's source and the data keys.")
        @OptionGroup var options: Options

        func run() async throws {
            let (store, source) = try await options.open()
            let audit = try AuditLog(store: store)
            let ring = try await ServerProcess.keyRing(store, source, audit: audit)
            let status = ring.status
            print("master key: \(status.source)")
            for key in status.keys {
                let created = Date(timeIntervalSince1970: key.createdAt).formatted(.iso8601)
                let state = key.id == status.current ? "current" : key.retiredAt.map { "retired \(Date(timeIntervalSince1970: $0).formatted(.iso8601))" } ?? "-"
                print("data key \(key.id)  created \(created)  \(state)")
            }
            await audit.flush()
            try? await store.close()
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-wrap the data keys under a new master key, or (--data) start sealing with a new data key.",
            discussion: """
                Without --data: a new master key re-wraps every data key; no data is re-encrypted. A
                master key file is replaced in place (written beside it first, so an interruption is
                finished or undone at the next start); a key from env: or command: needs
                --new-master-key, and its holder must switch to it afterwards.
                With --data: a new data key seals every new value; the old ones keep opening theirs.
                """)
        @OptionGroup var options: Options
        @Flag(help: "Make a new data key the current one instead of rotating the master key.") var data = false
        @Option(help: "The new master key's source (default for a key file: a new key in its place).") var newMasterKey: String?

        func run() async throws {
            let (store, source) = try await options.open()
            let audit = try AuditLog(store: store)
            if data {
                guard newMasterKey == nil else { throw CommandError("--new-master-key rotates the master key; leave out --data") }
                let ring = try await ServerProcess.keyRing(store, source, audit: audit)
                let id = try await ring.rotateDataKey()
                print("new values are sealed with data key \(id)")
            } else {
                let target = try newMasterKey.map { try ServerProcess.masterKeySource($0, dataDirectory: nil) }
                do {
                    try await KeyRing.rotateMaster(store: store, from: source, to: target, onEvent: ServerProcess.auditing(audit))
                } catch {
                    await audit.flush()
                    throw CommandError("\(error)")
                }
                print("the data keys are re-wrapped; the master key is now \(target ?? source)")
            }
            await audit.flush()
            try? await store.close()
        }
    }
}
