import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The file system's rows (and blob bytes) in PostgreSQL, for several processes or
/// machines sharing one store.
///
/// ```swift
/// let store = try await PostgresStore(location: PostgresLocation(url: "postgres://faasten@db/faasten"))
/// ```
///
/// Transaction bodies run on a thread pool with one connection each, so a slow
/// network blocks only that thread. Write transactions run at READ COMMITTED and
/// take row locks (`objectForUpdate`, entry inserts) to serialize changes to one
/// directory or object; a serialization failure or deadlock is retried.
public final class PostgresStore: Store {
    public let blobs: any BlobStore
    public var backend: String { "postgres" }
    public let location: PostgresLocation
    let executor: PostgresExecutor
    private let prepared = PreparedSchemas()

    /// Connects and migrates the schema. `connections` bounds both the pool and
    /// the number of transactions in flight. Blobs are kept in the database, or in
    /// `blobDirectory` (a directory every process sharing the database mounts).
    public init(location: PostgresLocation, connections: Int = 8, blobDirectory: String? = nil) async throws {
        self.location = location
        let executor = PostgresExecutor(location: location, connections: connections)
        self.executor = executor
        do {
            try await executor.run { connection in try PostgresStore.migrate(connection, FileSystemSchema.schema, executor: executor) }
        } catch {
            await executor.shutdown()
            throw error
        }
        if let blobDirectory {
            do {
                blobs = try LocalBlobStore(directory: blobDirectory)
            } catch {
                await executor.shutdown()
                throw error
            }
        } else {
            blobs = PostgresBlobStore(executor: executor)
        }
    }

    public func transaction<T: Sendable>(
        _ mode: TransactionMode, _ body: @escaping @Sendable (any StoreTransaction) throws -> T
    ) async throws -> T {
        try await executor.run { connection in
            try self.executor.inTransaction(connection, mode) {
                try body(PostgresTransaction(connection: connection, executor: self.executor))
            }
        }
    }

    public func synchronousTransaction<T>(_ mode: TransactionMode, _ body: (any StoreTransaction) throws -> T) throws -> T {
        try executor.pool.withConnection { connection in
            try executor.inTransaction(connection, mode) {
                try body(PostgresTransaction(connection: connection, executor: executor))
            }
        }
    }

    public func close() async throws {
        await executor.shutdown()
    }

    /// Raw access to one pooled connection on a thread that may block (use the
    /// connection's future API with `.wait()`): for same-shape SQL baselines in
    /// benchmarks and for operator tools. Never for work done on behalf of users.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await executor.run(body)
    }

    public func prepare(_ schema: Schema) throws {
        if prepared.contains(schema) { return }
        try executor.pool.withConnection { connection in try PostgresStore.migrate(connection, schema, executor: executor) }
        prepared.insert(schema)
    }

    static func migrate(_ connection: PostgresConnection, _ schema: Schema, executor: PostgresExecutor) throws {
        // One migrator at a time across processes: an advisory lock for the session.
        _ = try executor.query(connection, "SELECT pg_advisory_lock(4242001)")
        defer { _ = try? executor.query(connection, "SELECT pg_advisory_unlock(4242001)") }
        _ = try executor.query(
            connection,
            """
            CREATE TABLE IF NOT EXISTS schema_versions (
                component TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """)
        let recorded = try executor.query(connection, "SELECT version FROM schema_versions WHERE component = \(schema.component)").rows
        let applied = try recorded.first.map { Int(try $0.decode(Int32.self)) }
        // Databases made before components had versions of their own kept one list.
        let legacyTable = try executor.query(connection, "SELECT to_regclass('schema_migrations') IS NOT NULL").rows
        let legacy =
            try legacyTable.first?.decode(Bool.self) == true
            ? Int(try executor.query(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").rows.first?.decode(Int32.self) ?? 0)
            : 0
        let (from, pending) = try PreparedSchemas.pending(schema, applied: applied, legacy: legacy, dialect: .postgres)
        guard applied == nil || !pending.isEmpty else { return }
        try executor.inTransaction(connection, .write) {
            for migration in pending {
                for statement in migration.postgres {
                    _ = try executor.query(connection, PostgresQuery(unsafeSQL: statement))
                }
            }
            let version = Int32(pending.last?.version ?? from)
            _ = try executor.query(
                connection,
                """
                INSERT INTO schema_versions (component, version) VALUES (\(schema.component), \(version))
                ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, applied_at = now()
                """)
        }
    }
}

/// Connections, the threads that may block on them, and query helpers.
final class PostgresExecutor: Sendable {
    let pool: PostgresConnectionPool
    let threads: NIOThreadPool
    let eventLoops: MultiThreadedEventLoopGroup
    let logger: Logger
    /// LISTEN connections on `eventLoops`, stopped before them.
    let listeners = Listeners()

    init(location: PostgresLocation, connections: Int) {
        var logger = Logger(label: "faasten.store.postgres")
        logger.logLevel = .warning
        self.logger = logger
        eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        threads = NIOThreadPool(numberOfThreads: max(1, connections))
        threads.start()
        pool = PostgresConnectionPool(
            location: location, capacity: max(1, connections), eventLoopGroup: eventLoops, logger: logger)
    }

    /// Runs `body` with a connection on a pool thread.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await threads.runIfActive { try self.pool.withConnection(body) }
    }

    /// BEGIN … COMMIT around `body`, retrying on serialization failures and deadlocks.
    func inTransaction<T>(_ connection: PostgresConnection, _ mode: TransactionMode, _ body: () throws -> T) throws -> T {
        if mode == .read { return try inReadTransaction(connection, body) }
        var attempt = 0
        while true {
            attempt += 1
            _ = try query(connection, "BEGIN")
            do {
                let value = try body()
                _ = try query(connection, "COMMIT")
                return value
            } catch {
                _ = try? query(connection, "ROLLBACK")
                if attempt < 5, Self.isRetryable(error) { continue }
                throw error
            }
        }
    }

    /// A read-only snapshot. The connection runs queries in order, so BEGIN is sent
    /// without waiting for its answer (the body's first query waits behind it) and
    /// COMMIT is not waited for: one round trip each saved, nothing to lose when
    /// nothing was written.
    private func inReadTransaction<T>(_ connection: PostgresConnection, _ body: () throws -> T) throws -> T {
        let begin = connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        do {
            let value = try body()
            _ = try begin.wait()
            _ = connection.query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? query(connection, "ROLLBACK")
            if let failure = error as? PSQLError { throw PostgresFailure(error: failure) }
            throw error
        }
    }

    func query(_ connection: PostgresConnection, _ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try connection.query(query, logger: logger).wait()
        } catch let error as PSQLError {
            throw PostgresFailure(error: error)
        } catch {
            throw StoreError("postgres: \(error)")
        }
    }

    static func isRetryable(_ error: any Error) -> Bool {
        guard let failure = error as? PostgresFailure else { return false }
        return failure.sqlState == "40001" || failure.sqlState == "40P01"
    }

    func shutdown() async {
        for listener in listeners.removeAll() { await listener.stop() }
        pool.close()
        try? await threads.shutdownGracefully()
        try? await eventLoops.shutdownGracefully()
    }
}

/// A server-side error with its SQLSTATE, readable.
struct PostgresFailure: Error, CustomStringConvertible {
    let sqlState: String?
    let message: String

    init(error: PSQLError) {
        sqlState = error.serverInfo?[.sqlState]
        message = error.serverInfo?[.message] ?? String(reflecting: error)
    }

    var description: String { "postgres: \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }
}

/// One PostgreSQL transaction seen through ``StoreTransaction``.
struct PostgresTransaction: StoreTransaction {
    let connection: PostgresConnection
    let executor: PostgresExecutor

    private func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        try executor.query(connection, query).rows
    }

    private func changed(_ query: PostgresQuery) throws -> Int {
        try executor.query(connection, query).metadata.rows ?? 0
    }

    var dialect: SQLDialect { .postgres }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try rows(PostgresSQL.query(sql, arguments)).map(PostgresSQL.row)
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try changed(PostgresSQL.query(sql, arguments))
    }

    private static func object(_ row: PostgresRow) throws -> ObjectRecord {
        let (id, kind, label, data, version, entryCount) = try row.decode(
            (Int64, Int16, String?, ByteBuffer, Int64, Int64).self)
        return ObjectRecord(
            id: id, kind: Int(kind), label: label, data: Array(data.readableBytesView), version: version,
            entryCount: entryCount)
    }

    func object(_ id: ObjectID) throws -> ObjectRecord? {
        try rows("SELECT id, kind, label, data, version, entry_count FROM objects WHERE id = \(id)").first.map(Self.object)
    }

    func objectForUpdate(_ id: ObjectID) throws -> ObjectRecord? {
        try rows("SELECT id, kind, label, data, version, entry_count FROM objects WHERE id = \(id) FOR UPDATE")
            .first.map(Self.object)
    }

    func insertObject(kind: Int, label: String?, data: [UInt8]) throws -> ObjectID {
        let buffer = ByteBuffer(bytes: data)
        guard
            let row = try rows(
                "INSERT INTO objects (kind, label, data) VALUES (\(Int16(kind)), \(label), \(buffer)) RETURNING id"
            ).first
        else { throw StoreError("postgres: INSERT returned no id") }
        return try row.decode(Int64.self)
    }

    func updateObjectData(_ id: ObjectID, data: [UInt8]) throws {
        let buffer = ByteBuffer(bytes: data)
        guard try changed("UPDATE objects SET data = \(buffer), version = version + 1 WHERE id = \(id)") == 1 else {
            throw StoreError("object \(id) does not exist")
        }
    }

    func entry(directory: ObjectID, name: String) throws -> EntryRecord? {
        try rows("SELECT target, kind, label FROM entries WHERE directory = \(directory) AND name = \(name)").first.map {
            let (target, kind, label) = try $0.decode((Int64, Int16, String?).self)
            return EntryRecord(directory: directory, name: name, target: target, kind: Int(kind), label: label)
        }
    }

    func entries(directory: ObjectID) throws -> [EntryRecord] {
        try rows("SELECT name, target, kind, label FROM entries WHERE directory = \(directory) ORDER BY name").map {
            let (name, target, kind, label) = try $0.decode((String, Int64, Int16, String?).self)
            return EntryRecord(directory: directory, name: name, target: target, kind: Int(kind), label: label)
        }
    }

    func insertEntry(_ entry: EntryRecord) throws -> Bool {
        let inserted = try changed(
            """
            INSERT INTO entries (directory, name, target, kind, label)
            VALUES (\(entry.directory), \(entry.name), \(entry.target), \(Int16(entry.kind)), \(entry.label))
            ON CONFLICT DO NOTHING
            """)
        guard inserted == 1 else { return false }
        _ = try changed("UPDATE objects SET entry_count = entry_count + 1 WHERE id = \(entry.directory)")
        return true
    }

    func deleteEntry(directory: ObjectID, name: String) throws -> Bool {
        guard try changed("DELETE FROM entries WHERE directory = \(directory) AND name = \(name)") == 1 else {
            return false
        }
        _ = try changed("UPDATE objects SET entry_count = entry_count - 1 WHERE id = \(directory)")
        return true
    }

    func facet(faceted: ObjectID, label: String) throws -> FacetRecord? {
        try rows("SELECT directory, creator FROM facets WHERE faceted = \(faceted) AND label = \(label)").first.map {
            let (directory, creator) = try $0.decode((Int64, String).self)
            return FacetRecord(faceted: faceted, label: label, directory: directory, creator: creator)
        }
    }

    func facets(faceted: ObjectID) throws -> [FacetRecord] {
        try rows("SELECT label, directory, creator FROM facets WHERE faceted = \(faceted) ORDER BY label").map {
            let (label, directory, creator) = try $0.decode((String, Int64, String).self)
            return FacetRecord(faceted: faceted, label: label, directory: directory, creator: creator)
        }
    }

    func insertFacet(_ facet: FacetRecord) throws -> Bool {
        try changed(
            """
            INSERT INTO facets (faceted, label, directory, creator)
            VALUES (\(facet.faceted), \(facet.label), \(facet.directory), \(facet.creator)) ON CONFLICT DO NOTHING
            """) == 1
    }

    func facetCount(faceted: ObjectID, creator: String) throws -> Int {
        Int(try rows("SELECT COUNT(*) FROM facets WHERE faceted = \(faceted) AND creator = \(creator)").first?.decode(Int64.self) ?? 0)
    }

    func metadata(_ key: String) throws -> String? {
        try rows("SELECT value FROM metadata WHERE key = \(key)").first?.decode(String.self)
    }

    func setMetadata(_ key: String, _ value: String) throws {
        _ = try changed(
            "INSERT INTO metadata (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
    }
}

/// The listeners of one store, to stop when it closes.
final class Listeners: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [PostgresListener] = []

    func add(_ listener: PostgresListener) { lock.withLock { all.append(listener) } }
    func removeAll() -> [PostgresListener] {
        lock.withLock {
            defer { all = [] }
            return all
        }
    }
}

// MARK: PostgreSQL-only rows

extension PostgresStore {
    /// One statement in its own transaction, retried on a serialization failure or a
    /// deadlock: for modules whose rows exist only on PostgreSQL (the cluster's queue),
    /// which write PostgreSQL's own SQL (`FOR UPDATE SKIP LOCKED`, `pg_notify`).
    public func statement(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let executor = executor
        return try await executor.run { connection in
            var attempt = 0
            while true {
                attempt += 1
                do {
                    return try executor.query(connection, query).rows
                } catch {
                    if attempt < 5, PostgresExecutor.isRetryable(error) { continue }
                    throw error
                }
            }
        }
    }

    /// ``statement(_:)`` with `?N` placeholders and ``SQLValue``s, as the SQL seam writes
    /// them: for a PostgreSQL-only statement that also writes another module's rows
    /// from that module's values (an invocation record, as the cluster completes it).
    public func statement(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
        try await statement(try PostgresSQL.query(sql, arguments)).map(PostgresSQL.row)
    }

    /// Statements of one write transaction on one connection (see ``statement(_:)``).
    public func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (PostgresStatements) throws -> T) async throws -> T {
        let executor = executor
        return try await executor.run { connection in
            try executor.inTransaction(connection, .write) { try body(PostgresStatements(connection: connection, executor: executor)) }
        }
    }

    /// Listens on `channel` with a connection of its own, calling `handler` with each
    /// payload and `listening` each time the LISTEN is (re-)established (notifications
    /// sent while it was down are lost, so whoever waits must look again). Stopped when
    /// cancelled or when the store closes.
    public func listen(
        _ channel: String, listening: @escaping @Sendable () -> Void, handler: @escaping @Sendable (String) -> Void
    ) -> PostgresListener {
        let listener = PostgresListener(
            location: location, eventLoops: executor.eventLoops, logger: executor.logger, channel: channel, listening: listening,
            handler: handler)
        executor.listeners.add(listener)
        return listener
    }
}

/// The statements of one write transaction (``PostgresStore/writeTransaction(_:)``).
public struct PostgresStatements {
    let connection: PostgresConnection
    let executor: PostgresExecutor

    public func query(_ query: PostgresQuery) throws -> [PostgresRow] {
        try executor.query(connection, query).rows
    }

    /// A statement written once for both backends (the SQL seam), in this transaction.
    public var shared: any StoreTransaction { PostgresTransaction(connection: connection, executor: executor) }
}
