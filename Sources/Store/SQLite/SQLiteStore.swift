import Foundation
import GRDB
import GRDBSQLite

/// The embedded default: one SQLite database in WAL mode plus a blob directory,
/// both under a data directory.
///
/// ```swift
/// let store = try SQLiteStore(directory: "/var/lib/faasten")
/// ```
///
/// Writers are serialized by SQLite; readers run concurrently on snapshots.
/// `synchronous = NORMAL`: a committed transaction survives a crash of the process;
/// a power loss may roll back the last commits but never corrupts the database.
public final class SQLiteStore: Store {
    public let blobs: any BlobStore
    public var backend: String { "sqlite" }
    /// The database file.
    public let databasePath: String
    private let pool: DatabasePool

    /// The database file's name inside the data directory.
    public static let databaseFileName = "faasten.sqlite"

    /// Opens (creating if needed) the store in `directory` and migrates its schema.
    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        databasePath = (directory as NSString).appendingPathComponent(Self.databaseFileName)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: databasePath, configuration: configuration)
            try pool.write { db in try SQLiteStore.migrate(db) }
        } catch let error as DatabaseError {
            throw StoreError("cannot open \(databasePath): \(error.message ?? error.description)")
        }
        blobs = try LocalBlobStore(directory: (directory as NSString).appendingPathComponent("blobs"))
    }

    public func transaction<T: Sendable>(
        _ mode: TransactionMode, _ body: @escaping @Sendable (any StoreTransaction) throws -> T
    ) async throws -> T {
        // Synchronously, on this thread: GRDB's async variants hop to a queue and back,
        // which costs ~100 µs here against ~10 µs for a whole read transaction. Bodies
        // never await, so a cooperative thread is held only for the transaction itself
        // (and, for a writer, while SQLite's single write lock is busy).
        try synchronousTransaction(mode, body)
    }

    /// The body of ``transaction(_:_:)``, for callers that are not async.
    public func synchronousTransaction<T>(_ mode: TransactionMode, _ body: (any StoreTransaction) throws -> T) throws -> T {
        do {
            switch mode {
            case .read:
                return try pool.read { db in try body(SQLiteTransaction(db: db)) }
            case .write:
                return try pool.write { db in try body(SQLiteTransaction(db: db)) }
            }
        } catch let error as DatabaseError {
            throw StoreError("sqlite: \(error.message ?? error.description)")
        }
    }

    /// Raw read access, bypassing the file system: for same-shape SQL baselines in
    /// benchmarks and for operator tools. Never for work done on behalf of users.
    public func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// Raw write access in one transaction; see ``withDatabase(_:)``.
    public func withWritableDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.write(body)
    }

    public func close() async throws {
        try pool.close()
    }

    /// `PRAGMA integrity_check`: `"ok"` for a sound database.
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
                """)
        let applied = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0
        guard applied <= Migrations.latest else {
            throw StoreError("the database has schema version \(applied), newer than this build's \(Migrations.latest)")
        }
        for migration in Migrations.all where migration.version > applied {
            for statement in migration.sqlite { try db.execute(sql: statement) }
            try db.execute(
                sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, datetime('now'))",
                arguments: [migration.version, migration.name])
        }
    }
}

/// One GRDB transaction seen through ``StoreTransaction``.
struct SQLiteTransaction: StoreTransaction {
    let db: Database

    private func row(_ sql: String, _ arguments: StatementArguments) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    private func rows(_ sql: String, _ arguments: StatementArguments) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    private func execute(_ sql: String, _ arguments: StatementArguments) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
        return db.changesCount
    }

    private static func object(_ row: Row) -> ObjectRecord {
        let data: Data = row[3]
        return ObjectRecord(
            id: row[0], kind: row[1], label: row[2], data: [UInt8](data), version: row[4], entryCount: row[5])
    }

    func object(_ id: ObjectID) throws -> ObjectRecord? {
        // The two hottest statements (a path walk is entry lookups and one object read)
        // bind and step the prepared statement directly instead of building GRDB rows.
        try step("SELECT id, kind, label, data, version, entry_count FROM objects WHERE id = ?") { statement in
            sqlite3_bind_int64(statement, 1, id)
        } row: { statement in
            ObjectRecord(
                id: sqlite3_column_int64(statement, 0), kind: Int(sqlite3_column_int64(statement, 1)),
                label: Self.text(statement, 2), data: Self.bytes(statement, 3),
                version: sqlite3_column_int64(statement, 4), entryCount: sqlite3_column_int64(statement, 5))
        }
    }

    func objectForUpdate(_ id: ObjectID) throws -> ObjectRecord? {
        // A write transaction already holds SQLite's single write lock.
        try object(id)
    }

    func insertObject(kind: Int, label: String?, data: [UInt8]) throws -> ObjectID {
        _ = try execute("INSERT INTO objects (kind, label, data) VALUES (?, ?, ?)", [kind, label, Data(data)])
        return db.lastInsertedRowID
    }

    func updateObjectData(_ id: ObjectID, data: [UInt8]) throws {
        guard try execute("UPDATE objects SET data = ?, version = version + 1 WHERE id = ?", [Data(data), id]) == 1 else {
            throw StoreError("object \(id) does not exist")
        }
    }

    func entry(directory: ObjectID, name: String) throws -> EntryRecord? {
        try step("SELECT target, kind, label FROM entries WHERE directory = ? AND name = ?") { statement in
            sqlite3_bind_int64(statement, 1, directory)
            Self.bind(statement, 2, name)
        } row: { statement in
            EntryRecord(
                directory: directory, name: name, target: sqlite3_column_int64(statement, 0),
                kind: Int(sqlite3_column_int64(statement, 1)), label: Self.text(statement, 2))
        }
    }

    /// Runs a cached single-row query through the SQLite C API.
    private func step<T>(
        _ sql: String, bind: (OpaquePointer) -> Void, row: (OpaquePointer) -> T
    ) throws -> T? {
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(statement)
        defer { sqlite3_reset(statement) }
        bind(statement)
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return row(statement)
        case SQLITE_DONE: return nil
        case let code: throw StoreError("sqlite: \(String(cString: sqlite3_errstr(code))) in \(sql)")
        }
    }

    private static func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            // SQLITE_TRANSIENT: SQLite copies the bytes before this call returns.
            _ = sqlite3_bind_text(
                statement, index, UnsafeRawPointer(utf8.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(utf8.count),
                unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
    }

    private static func text(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL, let pointer = sqlite3_column_text(statement, column) else {
            return nil
        }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }

    private static func bytes(_ statement: OpaquePointer, _ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func entries(directory: ObjectID) throws -> [EntryRecord] {
        try rows("SELECT name, target, kind, label FROM entries WHERE directory = ? ORDER BY name", [directory]).map {
            EntryRecord(directory: directory, name: $0[0], target: $0[1], kind: $0[2], label: $0[3])
        }
    }

    func insertEntry(_ entry: EntryRecord) throws -> Bool {
        let inserted = try execute(
            "INSERT INTO entries (directory, name, target, kind, label) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [entry.directory, entry.name, entry.target, entry.kind, entry.label])
        guard inserted == 1 else { return false }
        _ = try execute("UPDATE objects SET entry_count = entry_count + 1 WHERE id = ?", [entry.directory])
        return true
    }

    func deleteEntry(directory: ObjectID, name: String) throws -> Bool {
        guard try execute("DELETE FROM entries WHERE directory = ? AND name = ?", [directory, name]) == 1 else {
            return false
        }
        _ = try execute("UPDATE objects SET entry_count = entry_count - 1 WHERE id = ?", [directory])
        return true
    }

    func facet(faceted: ObjectID, label: String) throws -> FacetRecord? {
        try row("SELECT directory, creator FROM facets WHERE faceted = ? AND label = ?", [faceted, label]).map {
            FacetRecord(faceted: faceted, label: label, directory: $0[0], creator: $0[1])
        }
    }

    func facets(faceted: ObjectID) throws -> [FacetRecord] {
        try rows("SELECT label, directory, creator FROM facets WHERE faceted = ? ORDER BY label", [faceted]).map {
            FacetRecord(faceted: faceted, label: $0[0], directory: $0[1], creator: $0[2])
        }
    }

    func insertFacet(_ facet: FacetRecord) throws -> Bool {
        try execute(
            "INSERT INTO facets (faceted, label, directory, creator) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [facet.faceted, facet.label, facet.directory, facet.creator]) == 1
    }

    func facetCount(faceted: ObjectID, creator: String) throws -> Int {
        try row("SELECT COUNT(*) FROM facets WHERE faceted = ? AND creator = ?", [faceted, creator])?[0] ?? 0
    }

    func saveInvocation(_ record: InvocationRow) throws {
        let arguments: StatementArguments = [
            record.id, record.gate, record.target, record.parent, record.invoker, record.startLabel, record.status,
            record.submittedAt, record.startedAt, record.finishedAt, record.responseStatus, record.result.map { Data($0) },
            record.resultLabel, record.error, record.logs.map { Data($0) }, record.logLabel, record.worker, record.attempts,
        ]
        _ = try execute(
            """
            INSERT INTO invocations (id, gate, target, parent, invoker, start_label, status, submitted_at, started_at,
                finished_at, response_status, result, result_label, error, logs, log_label, worker, attempts)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET gate = excluded.gate, status = excluded.status,
                started_at = excluded.started_at, finished_at = excluded.finished_at,
                response_status = excluded.response_status, result = excluded.result,
                result_label = excluded.result_label, error = excluded.error, logs = excluded.logs,
                log_label = excluded.log_label, worker = excluded.worker, attempts = excluded.attempts
            """, arguments)
    }

    func invocation(_ id: String) throws -> InvocationRow? {
        try row(
            """
            SELECT id, gate, target, parent, invoker, start_label, status, submitted_at, started_at, finished_at,
                response_status, result, result_label, error, logs, log_label, worker, attempts
            FROM invocations WHERE id = ?
            """, [id]
        ).map { row in
            let result: Data? = row[11]
            let logs: Data? = row[14]
            return InvocationRow(
                id: row[0], gate: row[1], target: row[2], parent: row[3], invoker: row[4], startLabel: row[5], status: row[6],
                submittedAt: row[7], startedAt: row[8], finishedAt: row[9], responseStatus: row[10], result: result.map { [UInt8]($0) },
                resultLabel: row[12], error: row[13], logs: logs.map { [UInt8]($0) }, logLabel: row[15], worker: row[16],
                attempts: row[17])
        }
    }

    func account(_ name: String) throws -> AccountRow? {
        try row("SELECT name, password_hash, admin, disabled, created_at FROM accounts WHERE name = ?", [name]).map(Self.account)
    }

    func accounts() throws -> [AccountRow] {
        try rows("SELECT name, password_hash, admin, disabled, created_at FROM accounts ORDER BY name", []).map(Self.account)
    }

    private static func account(_ row: Row) -> AccountRow {
        AccountRow(name: row[0], passwordHash: row[1], admin: row[2], disabled: row[3], createdAt: row[4])
    }

    func saveAccount(_ account: AccountRow) throws {
        _ = try execute(
            """
            INSERT INTO accounts (name, password_hash, admin, disabled, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin,
                disabled = excluded.disabled
            """, [account.name, account.passwordHash, account.admin, account.disabled, account.createdAt])
    }

    func deleteAccount(_ name: String) throws -> Bool {
        try deleteSessions(account: name)
        return try execute("DELETE FROM accounts WHERE name = ?", [name]) > 0
    }

    func insertSession(_ session: SessionRow) throws {
        _ = try execute(
            "INSERT INTO sessions (id, account, expires_at) VALUES (?, ?, ?)", [session.id, session.account, session.expiresAt])
    }

    func takeSession(_ id: String) throws -> SessionRow? {
        guard let found = try row("SELECT id, account, expires_at FROM sessions WHERE id = ?", [id]) else { return nil }
        _ = try execute("DELETE FROM sessions WHERE id = ?", [id])
        return SessionRow(id: found[0], account: found[1], expiresAt: found[2])
    }

    func deleteSessions(account: String) throws {
        _ = try execute("DELETE FROM sessions WHERE account = ?", [account])
    }

    func revokeToken(_ id: String, expiresAt: Double, now: Double) throws {
        _ = try execute("DELETE FROM revoked_tokens WHERE expires_at < ?", [now])
        _ = try execute("INSERT INTO revoked_tokens (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", [id, expiresAt])
    }

    func isTokenRevoked(_ id: String) throws -> Bool {
        try row("SELECT 1 FROM revoked_tokens WHERE id = ?", [id]) != nil
    }

    func appendAudit(_ rows: [AuditRow]) throws {
        for entry in rows {
            _ = try execute(
                "INSERT INTO audit (at, principal, action, object, labels, detail) VALUES (?, ?, ?, ?, ?, ?)",
                [entry.at, entry.principal, entry.action, entry.object, entry.labels, entry.detail])
        }
    }

    func audit(_ query: AuditQuery) throws -> [AuditRow] {
        // Each filter is "field matches, or no filter given", so one cached statement serves all.
        try rows(
            """
            SELECT id, at, principal, action, object, labels, detail FROM audit
            WHERE (?1 IS NULL OR principal = ?1) AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR object = ?3)
                AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at <= ?5)
            ORDER BY id DESC LIMIT ?6
            """, [query.principal, query.action, query.object, query.since, query.until, query.limit]
        ).map { row in
            AuditRow(id: row[0], at: row[1], principal: row[2], action: row[3], object: row[4], labels: row[5], detail: row[6])
        }
    }

    private static let triggerColumns = "id, owner, name, path, source, schedule, timezone, next_run, created_at"

    private static func trigger(_ row: Row) -> TriggerRow {
        TriggerRow(
            id: row[0], owner: row[1], name: row[2], path: row[3], source: row[4], schedule: row[5], timezone: row[6], nextRun: row[7],
            createdAt: row[8])
    }

    func insertTrigger(_ trigger: TriggerRow) throws -> Bool {
        try execute(
            "INSERT INTO triggers (\(Self.triggerColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                trigger.id, trigger.owner, trigger.name, trigger.path, trigger.source, trigger.schedule, trigger.timezone, trigger.nextRun,
                trigger.createdAt,
            ]) > 0
    }

    func trigger(_ id: String) throws -> TriggerRow? {
        try row("SELECT \(Self.triggerColumns) FROM triggers WHERE id = ?", [id]).map(Self.trigger)
    }

    func triggers(owner: String) throws -> [TriggerRow] {
        try rows("SELECT \(Self.triggerColumns) FROM triggers WHERE owner = ? ORDER BY name", [owner]).map(Self.trigger)
    }

    func dueTriggers(at time: Double) throws -> [TriggerRow] {
        try rows("SELECT \(Self.triggerColumns) FROM triggers WHERE next_run <= ? ORDER BY next_run", [time]).map(Self.trigger)
    }

    func claimTick(_ id: String, expected: Double, next: Double) throws -> Bool {
        try execute("UPDATE triggers SET next_run = ? WHERE id = ? AND next_run = ?", [next, id, expected]) > 0
    }

    func deleteTrigger(_ id: String) throws -> Bool {
        _ = try execute("DELETE FROM deliveries WHERE trigger_id = ?", [id])
        return try execute("DELETE FROM triggers WHERE id = ?", [id]) > 0
    }

    private static let deliveryColumns = "trigger_id, delivery, event, at, invocation, outcome, detail"

    private static func delivery(_ row: Row) -> DeliveryRow {
        DeliveryRow(trigger: row[0], delivery: row[1], event: row[2], at: row[3], invocation: row[4], outcome: row[5], detail: row[6])
    }

    func insertDelivery(_ delivery: DeliveryRow) throws -> Bool {
        try execute(
            "INSERT INTO deliveries (\(Self.deliveryColumns)) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                delivery.trigger, delivery.delivery, delivery.event, delivery.at, delivery.invocation, delivery.outcome,
                delivery.detail,
            ]) > 0
    }

    func delivery(trigger: String, delivery: String) throws -> DeliveryRow? {
        try row("SELECT \(Self.deliveryColumns) FROM deliveries WHERE trigger_id = ? AND delivery = ?", [trigger, delivery])
            .map(Self.delivery)
    }

    func updateDelivery(_ delivery: DeliveryRow) throws {
        _ = try execute(
            "UPDATE deliveries SET invocation = ?, outcome = ?, detail = ? WHERE trigger_id = ? AND delivery = ?",
            [delivery.invocation, delivery.outcome, delivery.detail, delivery.trigger, delivery.delivery])
    }

    func deleteDelivery(trigger: String, delivery: String) throws {
        _ = try execute("DELETE FROM deliveries WHERE trigger_id = ? AND delivery = ?", [trigger, delivery])
    }

    func deliveries(trigger: String, limit: Int) throws -> [DeliveryRow] {
        try rows(
            "SELECT \(Self.deliveryColumns) FROM deliveries WHERE trigger_id = ? ORDER BY at DESC, delivery LIMIT ?", [trigger, limit]
        ).map(Self.delivery)
    }

    func signingKeys() throws -> [(name: String, pem: String)] {
        try rows("SELECT name, pem FROM signing_keys ORDER BY name", []).map { (name: $0[0], pem: $0[1]) }
    }

    func insertSigningKey(name: String, pem: String) throws {
        _ = try execute("INSERT INTO signing_keys (name, pem) VALUES (?, ?)", [name, pem])
    }

    func deleteSigningKey(_ name: String) throws {
        _ = try execute("DELETE FROM signing_keys WHERE name = ?", [name])
    }

    func metadata(_ key: String) throws -> String? {
        try row("SELECT value FROM metadata WHERE key = ?", [key])?[0]
    }

    func setMetadata(_ key: String, _ value: String) throws {
        _ = try execute(
            "INSERT INTO metadata (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value])
    }
}
