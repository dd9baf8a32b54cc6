import ArgumentParser
import FileSystem
import Gateway
import Foundation
import Labels
import Store

/// Where the store is and whom `faasten fs` acts as.
struct FSOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (default: $FAASTEN_DATA or ~/.local/share/faasten).")
    var data: String?

    @Option(name: .long, help: "A store location instead of --data: a directory or postgres://user@host:port/db.")
    var store: String?

    @Option(name: .customLong("as"), help: "The privilege to act with: a component such as alice, alice&bob, T (none) or F (all).")
    var privilege: String?

    @Option(name: .long, help: "The label the context starts at (default T,T); --as must imply its integrity.")
    var startLabel: String?

    @Option(name: .long, help: "The highest label the context may reach (default and most: what --as may be shown).")
    var clearance: String?

    @Flag(help: "Print one JSON object: result, object, context (or error).")
    var json = false

    @Option(help: "The master key: a file, env:NAME or command:CMD (default: the data directory's master-key).")
    var masterKey: String?

    /// The store the options name.
    func location() throws -> StoreLocation {
        if let store {
            return try StoreLocation(store)
        }
        return .directory(Self.dataDirectory(data))
    }

    /// `--data`, else `$FAASTEN_DATA`, else `~/.local/share/faasten`.
    static func dataDirectory(_ data: String?) -> String {
        if let data { return data }
        if let environment = ProcessInfo.processInfo.environment["FAASTEN_DATA"], !environment.isEmpty {
            return environment
        }
        return NSHomeDirectory() + "/.local/share/faasten"
    }

    /// Opens the store the options name.
    func openStore() async throws -> any Store {
        try await Self.open(try location())
    }

    /// Opens the store and its file system, sealing with the store's keys (the master
    /// key from `--master-key`, default the data directory's file); key events and
    /// tampering go to the audit log.
    func openFileSystem() async throws -> (store: any Store, fileSystem: FileSystem, audit: AuditLog) {
        let store = try await openStore()
        do {
            let audit = try AuditLog(store: store)
            let directory = ServerProcess.masterKeyDirectory(for: try location(), dataDirectory: Self.dataDirectory(data))
            let source = try ServerProcess.masterKeySource(masterKey, dataDirectory: directory)
            let keys = try await ServerProcess.keyRing(store, source, audit: audit)
            return (store, try await ServerProcess.sealing(store, keys: keys), audit)
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Opens a store, or says which one could not be opened.
    static func open(_ location: StoreLocation) async throws -> any Store {
        do {
            return try await location.open()
        } catch {
            throw CommandError("cannot open the store at \(location): \(error)")
        }
    }

    /// The security context the command acts in, as the gateway builds a request's: the
    /// start rule on `--start-label`; for a file-system command (`capped`) the clearance
    /// capped at what `--as` may be shown, so a refused command changes nothing. (A
    /// function's run is not capped: what it ends at depends on the function; its
    /// result passes the release rule.)
    func context(capped: Bool) throws -> SecurityContext {
        guard let privilege else {
            throw CommandError("--as PRIVILEGE is required (e.g. --as alice; --as T for no privilege)")
        }
        let start = try parse("--start-label", startLabel.map { try Label(parsing: $0) } ?? .public)
        let owned = try parse("--as", try Privilege(parsing: privilege))
        let requested = try parse("--clearance", try clearance.map { try Label(parsing: $0) })
        let bound = capped ? try parse("--clearance", try ReleaseCheck.requestClearance(requested, for: owned)) : requested ?? .top
        return try parse("--start-label", try SecurityContext(starting: start, privilege: owned, clearance: bound))
    }

    private func parse<T>(_ option: String, _ body: @autoclosure () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw CommandError("\(option): \(error)")
        }
    }
}
