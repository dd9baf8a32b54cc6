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
        subcommands: [Status.self, Rotate.self, Reseal.self])

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
                With --data: a new data key seals every new value, and the values sealed with older
                keys are moved to it (see `faasten keys reseal`, which resumes an interrupted move).
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
                try await Reseal.reseal(store, ring, audit: audit)
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

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the values sealed with older data keys to the current one.",
            discussion: """
                Done by `rotate --data`; run it again to resume an interrupted move. Safe while
                servers run: each value is re-read and rewritten under its row's lock, so no write
                is lost. Running servers take up a new data key within 10 s; what they sealed with
                the old key meanwhile is moved by the next run.
                """)
        @OptionGroup var options: Options

        func run() async throws {
            let (store, source) = try await options.open()
            let audit = try AuditLog(store: store)
            let ring = try await ServerProcess.keyRing(store, source, audit: audit)
            try await Self.reseal(store, ring, audit: audit)
            await audit.flush()
            try? await store.close()
        }

        static func reseal(_ store: any Store, _ ring: KeyRing, audit: AuditLog) async throws {
            let fileSystem = FileSystem(store: store, keys: ring)
            var shown = 0
            let moved: Int
            do {
                moved = try await fileSystem.resealWithCurrentKey { count in
                    guard count - shown >= 1000 else { return }
                    shown = count
                    FileHandle.standardError.write(Data("moved \(count) values…\n".utf8))
                }
            } catch {
                await audit.flush()
                throw CommandError("re-sealing stopped (run `faasten keys reseal` to resume): \(error)")
            }
            print("moved \(moved) values to data key \(ring.status.current)")
        }
    }
}
