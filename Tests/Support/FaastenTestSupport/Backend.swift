import FileSystem
import Foundation
import Labels
import LocalPostgres
import Store
import Testing

/// The storage backends every file system test runs against.
public enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    /// A new, empty store: a temporary SQLite data directory, or a new database on the
    /// test process's PostgreSQL server (started on first use, stopped at exit).
    public func makeStore() async throws -> TestStore {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            return TestStore(store: try SQLiteStore(directory: directory.path), location: directory.path, directory: directory)
        case .postgres:
            let url = try LocalPostgres.shared().createDatabase()
            return TestStore(store: try await PostgresStore(location: PostgresLocation(url: url)), location: url, directory: nil)
        }
    }
}

/// A new store on `backend` for `body`, closed afterwards whatever happens (a
/// PostgreSQL store left open fails the test process).
public func withStore<T>(_ backend: Backend, _ body: (any Store) async throws -> T) async throws -> T {
    let test = try await backend.makeStore()
    do {
        let value = try await body(test.store)
        await test.close()
        return value
    } catch {
        await test.close()
        throw error
    }
}

/// A store for one test, with what is needed to reopen it and to clean up.
public struct TestStore: Sendable {
    public let store: any Store
    /// `--data` directory or `postgres://` URL: how another process opens the same store.
    public let location: String
    public let directory: TemporaryDirectory?

    public func close() async {
        try? await store.close()
    }
}

/// A directory under /tmp removed when the test is done with it.
public final class TemporaryDirectory: Sendable {
    public let path: String
    public var url: URL { URL(fileURLWithPath: path) }

    public init() throws {
        var template = Array((NSTemporaryDirectory() + "faasten-test-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw CocoaError(.fileWriteUnknown) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A bootstrapped file system on `backend` with users alice and bob, closed after `body`.
public func withFileSystem<T>(
    _ backend: Backend, limits: FileSystemLimits = .default, _ body: (FileSystem) async throws -> T
) async throws -> T {
    let test = try await backend.makeStore()
    let fs = FileSystem(store: test.store, limits: limits)
    do {
        try await fs.bootstrap()
        try await fs.addUser(Principal("alice"))
        try await fs.addUser(Principal("bob"))
        let result = try await body(fs)
        await test.close()
        return result
    } catch {
        await test.close()
        throw error
    }
}

/// A context acting as `privilege` (component text), starting public, no clearance bound.
public func context(_ privilege: String, label: String = "T,T", clearance: String = "F,T") throws -> SecurityContext {
    try SecurityContext(
        label: Label(parsing: label), privilege: Privilege(parsing: privilege), clearance: Label(parsing: clearance))
}

public func path(_ text: String) throws -> FSPath { try FSPath(parsing: text) }
public func label(_ text: String) throws -> Label { try Label(parsing: text) }
public func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Expects `body` to be refused with exactly `expected`.
public func expectRefusal<T>(
    _ expected: (FSError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected a refusal, but the operation succeeded", sourceLocation: sourceLocation)
    } catch let error as FSError {
        #expect(expected(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an FSError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Stores `bytes` as a blob and returns it as known to exist.
public func storedBlob(_ fs: FileSystem, _ bytes: [UInt8]) throws -> ExistingBlob {
    try fs.blobs.store(bytes)
}
