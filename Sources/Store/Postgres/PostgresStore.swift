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

    /// Connects and migrates the schema. `connections` bounds both the pool and
    /// the number of transactions in flight. Blobs are kept in the database, or in
    /// `blobDirectory` (a directory every process sharing the database mounts).
    public init(location: PostgresLocation, connections: Int = 8, blobDirectory: String? = nil) async throws {
        self.location = location
        let executor = PostgresExecutor(location: location, connections: connections)
        self.executor = executor
        do {
            try await executor.run { connection in try PostgresStore.migrate(connection, executor: executor) }
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

    static func migrate(_ connection: PostgresConnection, executor: PostgresExecutor) throws {
        // One migrator at a time across processes: an advisory lock for the session.
        _ = try executor.query(connection, "SELECT pg_advisory_lock(4242001)")
        defer { _ = try? executor.query(connection, "SELECT pg_advisory_unlock(4242001)") }
        _ = try executor.query(
            connection,
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """)
        let rows = try executor.query(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").rows
        let applied = Int(try rows.first?.decode(Int32.self) ?? 0)
        guard applied <= Migrations.latest else {
            throw StoreError("the database has schema version \(applied), newer than this build's \(Migrations.latest)")
        }
        for migration in Migrations.all where migration.version > applied {
            try executor.inTransaction(connection, .write) {
                for statement in migration.postgres {
                    _ = try executor.query(connection, PostgresQuery(unsafeSQL: statement))
                }
                _ = try executor.query(
                    connection,
                    "INSERT INTO schema_migrations (version, name) VALUES (\(Int32(migration.version)), \(migration.name))")
            }
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

    func saveInvocation(_ record: InvocationRow) throws {
        _ = try changed(Self.saveInvocationQuery(record))
    }

    /// The upsert of an invocation record, also used inside the queue's statements.
    static func saveInvocationQuery(_ record: InvocationRow) -> PostgresQuery {
        let result = record.result.map { ByteBuffer(bytes: $0) }
        let logs = record.logs.map { ByteBuffer(bytes: $0) }
        let responseStatus = record.responseStatus.map { Int32(clamping: $0) }
        return """
            INSERT INTO invocations (id, gate, target, parent, invoker, start_label, status, submitted_at, started_at,
                finished_at, response_status, result, result_label, error, logs, log_label, worker, attempts)
            VALUES (\(record.id), \(record.gate), \(record.target), \(record.parent), \(record.invoker),
                \(record.startLabel), \(record.status), \(record.submittedAt), \(record.startedAt), \(record.finishedAt),
                \(responseStatus), \(result), \(record.resultLabel), \(record.error), \(logs), \(record.logLabel),
                \(record.worker), \(Int32(clamping: record.attempts)))
            ON CONFLICT (id) DO UPDATE SET gate = EXCLUDED.gate, status = EXCLUDED.status,
                started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
                response_status = EXCLUDED.response_status, result = EXCLUDED.result,
                result_label = EXCLUDED.result_label, error = EXCLUDED.error, logs = EXCLUDED.logs,
                log_label = EXCLUDED.log_label, worker = EXCLUDED.worker, attempts = EXCLUDED.attempts
            """
    }

    func invocation(_ id: String) throws -> InvocationRow? {
        try rows(
            """
            SELECT id, gate, target, parent, invoker, start_label, status, submitted_at, started_at, finished_at,
                response_status, result, result_label, error, logs, log_label, worker, attempts
            FROM invocations WHERE id = \(id)
            """
        ).first.map { row in
            let (id, gate, target, parent, invoker, startLabel, status, submittedAt) = try row.decode(
                (String, Int64?, String, String?, String, String, String, Double).self)
            let columns = Array(row)
            let startedAt = try columns[8].decode(Double?.self)
            let finishedAt = try columns[9].decode(Double?.self)
            let responseStatus = try columns[10].decode(Int32?.self)
            let result = try columns[11].decode(ByteBuffer?.self)
            let resultLabel = try columns[12].decode(String?.self)
            let error = try columns[13].decode(String?.self)
            let logs = try columns[14].decode(ByteBuffer?.self)
            let logLabel = try columns[15].decode(String?.self)
            let worker = try columns[16].decode(String?.self)
            let attempts = try columns[17].decode(Int32.self)
            return InvocationRow(
                id: id, gate: gate, target: target, parent: parent, invoker: invoker, startLabel: startLabel, status: status,
                submittedAt: submittedAt, startedAt: startedAt, finishedAt: finishedAt, responseStatus: responseStatus.map(Int.init),
                result: result.map { Array($0.readableBytesView) }, resultLabel: resultLabel, error: error,
                logs: logs.map { Array($0.readableBytesView) }, logLabel: logLabel, worker: worker, attempts: Int(attempts))
        }
    }

    func account(_ name: String) throws -> AccountRow? {
        try rows("SELECT name, password_hash, admin, disabled, created_at FROM accounts WHERE name = \(name)").first.map(Self.account)
    }

    func accounts() throws -> [AccountRow] {
        try rows("SELECT name, password_hash, admin, disabled, created_at FROM accounts ORDER BY name").map(Self.account)
    }

    private static func account(_ row: PostgresRow) throws -> AccountRow {
        let (name, hash, admin, disabled, createdAt) = try row.decode((String, String, Bool, Bool, Double).self)
        return AccountRow(name: name, passwordHash: hash, admin: admin, disabled: disabled, createdAt: createdAt)
    }

    func saveAccount(_ account: AccountRow) throws {
        _ = try changed(
            """
            INSERT INTO accounts (name, password_hash, admin, disabled, created_at)
            VALUES (\(account.name), \(account.passwordHash), \(account.admin), \(account.disabled), \(account.createdAt))
            ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash, admin = EXCLUDED.admin,
                disabled = EXCLUDED.disabled
            """)
    }

    func deleteAccount(_ name: String) throws -> Bool {
        try deleteSessions(account: name)
        return try changed("DELETE FROM accounts WHERE name = \(name)") > 0
    }

    func insertSession(_ session: SessionRow) throws {
        _ = try changed(
            "INSERT INTO sessions (id, account, expires_at) VALUES (\(session.id), \(session.account), \(session.expiresAt))")
    }

    func takeSession(_ id: String) throws -> SessionRow? {
        try rows("DELETE FROM sessions WHERE id = \(id) RETURNING id, account, expires_at").first.map { row in
            let (id, account, expiresAt) = try row.decode((String, String, Double).self)
            return SessionRow(id: id, account: account, expiresAt: expiresAt)
        }
    }

    func deleteSessions(account: String) throws {
        _ = try changed("DELETE FROM sessions WHERE account = \(account)")
    }

    func revokeToken(_ id: String, expiresAt: Double, now: Double) throws {
        _ = try changed("DELETE FROM revoked_tokens WHERE expires_at < \(now)")
        _ = try changed("INSERT INTO revoked_tokens (id, expires_at) VALUES (\(id), \(expiresAt)) ON CONFLICT (id) DO NOTHING")
    }

    func isTokenRevoked(_ id: String) throws -> Bool {
        try !rows("SELECT 1 FROM revoked_tokens WHERE id = \(id)").isEmpty
    }

    func appendAudit(_ entries: [AuditRow]) throws {
        for entry in entries {
            _ = try changed(
                """
                INSERT INTO audit (at, principal, action, object, labels, detail)
                VALUES (\(entry.at), \(entry.principal), \(entry.action), \(entry.object), \(entry.labels), \(entry.detail))
                """)
        }
    }

    func audit(_ query: AuditQuery) throws -> [AuditRow] {
        try rows(
            """
            SELECT id, at, principal, action, object, labels, detail FROM audit
            WHERE (\(query.principal)::text IS NULL OR principal = \(query.principal))
                AND (\(query.action)::text IS NULL OR action = \(query.action))
                AND (\(query.object)::text IS NULL OR object = \(query.object))
                AND (\(query.since)::double precision IS NULL OR at >= \(query.since))
                AND (\(query.until)::double precision IS NULL OR at <= \(query.until))
            ORDER BY id DESC LIMIT \(Int64(query.limit))
            """
        ).map { row in
            let (id, at, principal, action, object, labels, detail) = try row.decode(
                (Int64, Double, String, String, String, String, String).self)
            return AuditRow(id: id, at: at, principal: principal, action: action, object: object, labels: labels, detail: detail)
        }
    }

    private static func trigger(_ row: PostgresRow) throws -> TriggerRow {
        let (id, owner, name, path, source, schedule, timezone, nextRun, createdAt) = try row.decode(
            (String, String, String, String, String, String?, String, Double?, Double).self)
        return TriggerRow(
            id: id, owner: owner, name: name, path: path, source: source, schedule: schedule, timezone: timezone, nextRun: nextRun,
            createdAt: createdAt)
    }

    func insertTrigger(_ trigger: TriggerRow) throws -> Bool {
        try changed(
            """
            INSERT INTO triggers (id, owner, name, path, source, schedule, timezone, next_run, created_at)
            VALUES (\(trigger.id), \(trigger.owner), \(trigger.name), \(trigger.path), \(trigger.source), \(trigger.schedule),
                \(trigger.timezone), \(trigger.nextRun), \(trigger.createdAt))
            ON CONFLICT DO NOTHING
            """) > 0
    }

    func trigger(_ id: String) throws -> TriggerRow? {
        try rows(
            "SELECT id, owner, name, path, source, schedule, timezone, next_run, created_at FROM triggers WHERE id = \(id)"
        ).first.map(Self.trigger)
    }

    func triggers(owner: String) throws -> [TriggerRow] {
        try rows(
            """
            SELECT id, owner, name, path, source, schedule, timezone, next_run, created_at FROM triggers
            WHERE owner = \(owner) ORDER BY name
            """
        ).map(Self.trigger)
    }

    func dueTriggers(at time: Double) throws -> [TriggerRow] {
        try rows(
            """
            SELECT id, owner, name, path, source, schedule, timezone, next_run, created_at FROM triggers
            WHERE next_run <= \(time) ORDER BY next_run
            """
        ).map(Self.trigger)
    }

    func claimTick(_ id: String, expected: Double, next: Double) throws -> Bool {
        try changed("UPDATE triggers SET next_run = \(next) WHERE id = \(id) AND next_run = \(expected)") > 0
    }

    func deleteTrigger(_ id: String) throws -> Bool {
        _ = try changed("DELETE FROM deliveries WHERE trigger_id = \(id)")
        return try changed("DELETE FROM triggers WHERE id = \(id)") > 0
    }

    private static func delivery(_ row: PostgresRow) throws -> DeliveryRow {
        let (trigger, delivery, event, at, invocation, outcome, detail) = try row.decode(
            (String, String, String, Double, String?, String, String).self)
        return DeliveryRow(
            trigger: trigger, delivery: delivery, event: event, at: at, invocation: invocation, outcome: outcome, detail: detail)
    }

    func insertDelivery(_ delivery: DeliveryRow) throws -> Bool {
        try changed(
            """
            INSERT INTO deliveries (trigger_id, delivery, event, at, invocation, outcome, detail)
            VALUES (\(delivery.trigger), \(delivery.delivery), \(delivery.event), \(delivery.at), \(delivery.invocation),
                \(delivery.outcome), \(delivery.detail))
            ON CONFLICT DO NOTHING
            """) > 0
    }

    func delivery(trigger: String, delivery: String) throws -> DeliveryRow? {
        try rows(
            """
            SELECT trigger_id, delivery, event, at, invocation, outcome, detail FROM deliveries
            WHERE trigger_id = \(trigger) AND delivery = \(delivery)
            """
        ).first.map(Self.delivery)
    }

    func updateDelivery(_ delivery: DeliveryRow) throws {
        _ = try changed(
            """
            UPDATE deliveries SET invocation = \(delivery.invocation), outcome = \(delivery.outcome), detail = \(delivery.detail)
            WHERE trigger_id = \(delivery.trigger) AND delivery = \(delivery.delivery)
            """)
    }

    func deleteDelivery(trigger: String, delivery: String) throws {
        _ = try changed("DELETE FROM deliveries WHERE trigger_id = \(trigger) AND delivery = \(delivery)")
    }

    func deliveries(trigger: String, limit: Int) throws -> [DeliveryRow] {
        try rows(
            """
            SELECT trigger_id, delivery, event, at, invocation, outcome, detail FROM deliveries
            WHERE trigger_id = \(trigger) ORDER BY at DESC, delivery LIMIT \(Int64(limit))
            """
        ).map(Self.delivery)
    }

    func signingKeys() throws -> [(name: String, pem: String)] {
        try rows("SELECT name, pem FROM signing_keys ORDER BY name").map {
            let (name, pem) = try $0.decode((String, String).self)
            return (name: name, pem: pem)
        }
    }

    func insertSigningKey(name: String, pem: String) throws {
        _ = try changed("INSERT INTO signing_keys (name, pem) VALUES (\(name), \(pem))")
    }

    func deleteSigningKey(_ name: String) throws {
        _ = try changed("DELETE FROM signing_keys WHERE name = \(name)")
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
