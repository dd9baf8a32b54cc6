import Store

/// The gateway's own rows — accounts, refresh sessions, revoked tokens, the audit log,
/// triggers and their deliveries, the token signing keys a cluster's gateways share —
/// with their schema and SQL, written once for both stores over the store's SQL seam.
///
/// The gateway prepares the schema when it starts (``Gateway/init(dispatcher:keys:audit:configuration:metrics:logger:)``);
/// a transaction reads and writes the rows with the methods below:
///
/// ```swift
/// let account = try await store.transaction(.read) { try $0.account("alice") }
/// ```
public enum GatewaySchema {
    public static let schema = Schema(
        component: "gateway",
        migrations: [
            Migration(
                version: 1, name: "accounts, sessions and the audit log",
                sqlite: [
                    """
                    CREATE TABLE accounts (
                        name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
                        disabled INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL)
                    """,
                    "CREATE TABLE sessions (id TEXT PRIMARY KEY, account TEXT NOT NULL, expires_at REAL NOT NULL)",
                    "CREATE INDEX sessions_by_account ON sessions (account)",
                    "CREATE TABLE revoked_tokens (id TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
                    """
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, principal TEXT NOT NULL, action TEXT NOT NULL,
                        object TEXT NOT NULL, labels TEXT NOT NULL, detail TEXT NOT NULL)
                    """,
                    "CREATE INDEX audit_by_time ON audit (at)",
                ],
                postgres: [
                    """
                    CREATE TABLE accounts (
                        name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, admin BOOLEAN NOT NULL DEFAULT FALSE,
                        disabled BOOLEAN NOT NULL DEFAULT FALSE, created_at DOUBLE PRECISION NOT NULL)
                    """,
                    "CREATE TABLE sessions (id TEXT PRIMARY KEY, account TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
                    "CREATE INDEX sessions_by_account ON sessions (account)",
                    "CREATE TABLE revoked_tokens (id TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
                    """
                    CREATE TABLE audit (
                        id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, principal TEXT NOT NULL, action TEXT NOT NULL,
                        object TEXT NOT NULL, labels TEXT NOT NULL, detail TEXT NOT NULL)
                    """,
                    "CREATE INDEX audit_by_time ON audit (at)",
                ]),
            Migration(
                version: 2, name: "triggers and deliveries",
                sqlite: [
                    """
                    CREATE TABLE triggers (
                        id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL,
                        schedule TEXT, timezone TEXT NOT NULL, next_run REAL, created_at REAL NOT NULL, UNIQUE (owner, name))
                    """,
                    "CREATE INDEX triggers_by_next_run ON triggers (next_run)",
                    """
                    CREATE TABLE deliveries (
                        trigger_id TEXT NOT NULL, delivery TEXT NOT NULL, event TEXT NOT NULL, at REAL NOT NULL, invocation TEXT,
                        outcome TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (trigger_id, delivery))
                    """,
                    "CREATE INDEX deliveries_by_time ON deliveries (trigger_id, at)",
                ],
                postgres: [
                    """
                    CREATE TABLE triggers (
                        id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL,
                        schedule TEXT, timezone TEXT NOT NULL, next_run DOUBLE PRECISION, created_at DOUBLE PRECISION NOT NULL,
                        UNIQUE (owner, name))
                    """,
                    "CREATE INDEX triggers_by_next_run ON triggers (next_run)",
                    """
                    CREATE TABLE deliveries (
                        trigger_id TEXT NOT NULL, delivery TEXT NOT NULL, event TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                        invocation TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (trigger_id, delivery))
                    """,
                    "CREATE INDEX deliveries_by_time ON deliveries (trigger_id, at)",
                ]),
            Migration(
                version: 3, name: "signing keys shared by a cluster's gateways",
                sqlite: ["CREATE TABLE signing_keys (name TEXT PRIMARY KEY, pem TEXT NOT NULL)"],
                postgres: ["CREATE TABLE signing_keys (name TEXT PRIMARY KEY, pem TEXT NOT NULL)"]),
        ],
        legacyVersions: [3: 1, 4: 2, 5: 3])
}

// MARK: Accounts, sessions, tokens

extension StoreTransaction {
    private static var accountColumns: String { "name, password_hash, admin, disabled, created_at" }

    private static func account(_ row: SQLRow) throws -> AccountRow {
        AccountRow(
            name: try row.string(0), passwordHash: try row.string(1), admin: try row.bool(2), disabled: try row.bool(3),
            createdAt: try row.double(4))
    }

    /// The account named `name`, if any.
    public func account(_ name: String) throws -> AccountRow? {
        try query("SELECT \(Self.accountColumns) FROM accounts WHERE name = ?", [.text(name)]).first.map(Self.account)
    }

    /// Every account, by name.
    public func accounts() throws -> [AccountRow] {
        try query("SELECT \(Self.accountColumns) FROM accounts ORDER BY name", []).map(Self.account)
    }

    /// Inserts or replaces an account.
    public func saveAccount(_ account: AccountRow) throws {
        _ = try execute(
            """
            INSERT INTO accounts (\(Self.accountColumns)) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, admin = excluded.admin,
                disabled = excluded.disabled
            """,
            [.text(account.name), .text(account.passwordHash), .bool(account.admin), .bool(account.disabled), .real(account.createdAt)])
    }

    /// Removes an account and its sessions; `false` if there was none.
    public func deleteAccount(_ name: String) throws -> Bool {
        try deleteSessions(account: name)
        return try execute("DELETE FROM accounts WHERE name = ?", [.text(name)]) > 0
    }

    /// Adds a refresh session.
    public func insertSession(_ session: SessionRow) throws {
        _ = try execute(
            "INSERT INTO sessions (id, account, expires_at) VALUES (?, ?, ?)",
            [.text(session.id), .text(session.account), .real(session.expiresAt)])
    }

    /// Removes and returns a session (a refresh token is used once).
    public func takeSession(_ id: String) throws -> SessionRow? {
        try query("DELETE FROM sessions WHERE id = ? RETURNING id, account, expires_at", [.text(id)]).first.map { row in
            SessionRow(id: try row.string(0), account: try row.string(1), expiresAt: try row.double(2))
        }
    }

    /// Removes every session of an account.
    public func deleteSessions(account: String) throws {
        _ = try execute("DELETE FROM sessions WHERE account = ?", [.text(account)])
    }

    /// Marks an access token as revoked until it would have expired anyway (and forgets
    /// revocations that have expired).
    public func revokeToken(_ id: String, expiresAt: Double, now: Double) throws {
        _ = try execute("DELETE FROM revoked_tokens WHERE expires_at < ?", [.real(now)])
        _ = try execute(
            "INSERT INTO revoked_tokens (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", [.text(id), .real(expiresAt)])
    }

    /// Whether an access token was revoked.
    public func isTokenRevoked(_ id: String) throws -> Bool {
        !(try query("SELECT 1 FROM revoked_tokens WHERE id = ?", [.text(id)]).isEmpty)
    }
}

// MARK: The audit log

extension StoreTransaction {
    /// Appends audit rows.
    public func appendAudit(_ rows: [AuditRow]) throws {
        for entry in rows {
            _ = try execute(
                "INSERT INTO audit (at, principal, action, object, labels, detail) VALUES (?, ?, ?, ?, ?, ?)",
                [.real(entry.at), .text(entry.principal), .text(entry.action), .text(entry.object), .text(entry.labels), .text(entry.detail)])
        }
    }

    /// Audit rows matching `query`, newest first.
    public func audit(_ query: AuditQuery) throws -> [AuditRow] {
        // Each filter is "field matches, or no filter given", so one statement serves all
        // (the casts give PostgreSQL a type for a NULL parameter).
        try self.query(
            """
            SELECT id, at, principal, action, object, labels, detail FROM audit
            WHERE (CAST(?1 AS TEXT) IS NULL OR principal = ?1) AND (CAST(?2 AS TEXT) IS NULL OR action = ?2)
                AND (CAST(?3 AS TEXT) IS NULL OR object = ?3) AND (CAST(?4 AS DOUBLE PRECISION) IS NULL OR at >= ?4)
                AND (CAST(?5 AS DOUBLE PRECISION) IS NULL OR at <= ?5)
            ORDER BY id DESC LIMIT ?6
            """,
            [
                .string(query.principal), .string(query.action), .string(query.object), .double(query.since), .double(query.until),
                .int(query.limit),
            ]
        ).map { row in
            AuditRow(
                id: Int64(try row.int(0)), at: try row.double(1), principal: try row.string(2), action: try row.string(3),
                object: try row.string(4), labels: try row.string(5), detail: try row.string(6))
        }
    }
}

// MARK: Triggers and deliveries

extension StoreTransaction {
    private static var triggerColumns: String { "id, owner, name, path, source, schedule, timezone, next_run, created_at" }

    private static func trigger(_ row: SQLRow) throws -> TriggerRow {
        TriggerRow(
            id: try row.string(0), owner: try row.string(1), name: try row.string(2), path: try row.string(3), source: try row.string(4),
            schedule: try row.optionalString(5), timezone: try row.string(6), nextRun: try row.optionalDouble(7),
            createdAt: try row.double(8))
    }

    /// Adds a trigger; `false` if its owner already has one with that name.
    public func insertTrigger(_ trigger: TriggerRow) throws -> Bool {
        try execute(
            "INSERT INTO triggers (\(Self.triggerColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                .text(trigger.id), .text(trigger.owner), .text(trigger.name), .text(trigger.path), .text(trigger.source),
                .string(trigger.schedule), .text(trigger.timezone), .double(trigger.nextRun), .real(trigger.createdAt),
            ]) > 0
    }

    public func trigger(_ id: String) throws -> TriggerRow? {
        try query("SELECT \(Self.triggerColumns) FROM triggers WHERE id = ?", [.text(id)]).first.map(Self.trigger)
    }

    /// An owner's triggers, by name.
    public func triggers(owner: String) throws -> [TriggerRow] {
        try query("SELECT \(Self.triggerColumns) FROM triggers WHERE owner = ? ORDER BY name", [.text(owner)]).map(Self.trigger)
    }

    /// Schedules whose next tick is at or before `time`.
    public func dueTriggers(at time: Double) throws -> [TriggerRow] {
        try query("SELECT \(Self.triggerColumns) FROM triggers WHERE next_run <= ? ORDER BY next_run", [.real(time)]).map(Self.trigger)
    }

    /// Moves a schedule's next tick from `expected` to `next`; `false` (and no change) if
    /// another process moved it first: the tick is someone else's.
    public func claimTick(_ id: String, expected: Double, next: Double) throws -> Bool {
        try execute("UPDATE triggers SET next_run = ? WHERE id = ? AND next_run = ?", [.real(next), .text(id), .real(expected)]) > 0
    }

    /// Removes a trigger and its deliveries; `false` if there was none.
    public func deleteTrigger(_ id: String) throws -> Bool {
        _ = try execute("DELETE FROM deliveries WHERE trigger_id = ?", [.text(id)])
        return try execute("DELETE FROM triggers WHERE id = ?", [.text(id)]) > 0
    }

    private static var deliveryColumns: String { "trigger_id, delivery, event, at, invocation, outcome, detail" }

    private static func delivery(_ row: SQLRow) throws -> DeliveryRow {
        DeliveryRow(
            trigger: try row.string(0), delivery: try row.string(1), event: try row.string(2), at: try row.double(3),
            invocation: try row.optionalString(4), outcome: try row.string(5), detail: try row.string(6))
    }

    /// Records a delivery; `false` (and no change) if this delivery id was seen before.
    public func insertDelivery(_ delivery: DeliveryRow) throws -> Bool {
        try execute(
            "INSERT INTO deliveries (\(Self.deliveryColumns)) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                .text(delivery.trigger), .text(delivery.delivery), .text(delivery.event), .real(delivery.at), .string(delivery.invocation),
                .text(delivery.outcome), .text(delivery.detail),
            ]) > 0
    }

    public func delivery(trigger: String, delivery: String) throws -> DeliveryRow? {
        try query("SELECT \(Self.deliveryColumns) FROM deliveries WHERE trigger_id = ? AND delivery = ?", [.text(trigger), .text(delivery)])
            .first.map(Self.delivery)
    }

    public func updateDelivery(_ delivery: DeliveryRow) throws {
        _ = try execute(
            "UPDATE deliveries SET invocation = ?, outcome = ?, detail = ? WHERE trigger_id = ? AND delivery = ?",
            [.string(delivery.invocation), .text(delivery.outcome), .text(delivery.detail), .text(delivery.trigger), .text(delivery.delivery)])
    }

    /// Forgets a delivery (one that could not be queued, so that a redelivery runs).
    public func deleteDelivery(trigger: String, delivery: String) throws {
        _ = try execute("DELETE FROM deliveries WHERE trigger_id = ? AND delivery = ?", [.text(trigger), .text(delivery)])
    }

    /// A trigger's deliveries, newest first.
    public func deliveries(trigger: String, limit: Int) throws -> [DeliveryRow] {
        try query(
            "SELECT \(Self.deliveryColumns) FROM deliveries WHERE trigger_id = ? ORDER BY at DESC, delivery LIMIT ?",
            [.text(trigger), .int(limit)]
        ).map(Self.delivery)
    }
}

// MARK: Signing keys

extension StoreTransaction {
    /// The token signing keys gateways share (cluster mode), by name: `(name, PEM)`.
    public func signingKeys() throws -> [(name: String, pem: String)] {
        try query("SELECT name, pem FROM signing_keys ORDER BY name", []).map { (name: try $0.string(0), pem: try $0.string(1)) }
    }

    public func insertSigningKey(name: String, pem: String) throws {
        _ = try execute("INSERT INTO signing_keys (name, pem) VALUES (?, ?)", [.text(name), .text(pem)])
    }

    public func deleteSigningKey(_ name: String) throws {
        _ = try execute("DELETE FROM signing_keys WHERE name = ?", [.text(name)])
    }
}
