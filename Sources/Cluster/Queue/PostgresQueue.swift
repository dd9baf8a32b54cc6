import Keys
import Foundation
import NIOCore
import PostgresNIO
import Store
import Worker

/// The durable invocation queue of a cluster, in the same PostgreSQL database as the
/// file system.
///
/// ```swift
/// let queue = PostgresQueue(store: store, keys: keyRing)
/// try await queue.enqueue(row, request: bytes, affinity: key, maxAttempts: 3)
/// let claimed = try await queue.claim(worker: me, limit: 4, warm: [], running: 0, lease: 15)
/// ```
///
/// - An invocation is recorded (status `queued`) and enqueued in one transaction,
///   which notifies ``workChannel`` when it commits. Each step is one statement (data-
///   modifying `WITH` clauses), so one round trip and one transaction.
/// - A worker claims rows with `FOR UPDATE SKIP LOCKED`, so that workers never wait
///   for one another, and holds each for a lease it renews with its heartbeat. A row
///   whose lease ran out (its worker died or hung) is claimable again, until it has
///   been claimed `max_attempts` times; then ``failAbandoned()`` fails it with the
///   reason.
/// - The result is written by deleting the queue row *of this claim* (same worker,
///   same attempt) in the transaction that records it, which notifies ``doneChannel``
///   with the id: a worker that lost its lease cannot write a second result.
///
/// - With keys, a queued request is Clemmys' message: the plaintext metadata of its
///   invocation row (id, gate, target, parent, invoker, start label, submission time)
///   beside the request sealed and bound to that metadata (``requestBinding(_:)``).
///   A worker opens it before anything runs (``openRequest(_:)``): a request whose
///   bytes or metadata were changed in the database, replayed under another id, or
///   moved to another parent does not open.
///
/// Times are the database server's clock, so that machines' clocks need not agree.
public final class PostgresQueue: Sendable {
    /// Notified (empty payload) when work is enqueued.
    public static let workChannel = "faasten_work"
    /// Notified with the invocation id when an invocation's record is final.
    public static let doneChannel = "faasten_done"

    let store: PostgresStore
    /// Seals the queued requests, and the results and logs of the records it writes (the
    /// file system's key ring).
    let keys: KeyRing?

    /// The queue on `store`, whose tables (and the invocation records they update) are
    /// created or migrated first; records written with results and logs sealed by `keys`
    /// (`nil`, said explicitly: in clear, for tests and benchmarks).
    public init(store: PostgresStore, keys: KeyRing?) throws {
        self.store = store
        self.keys = keys
        try store.prepare(InvocationRecords.schema)
        try store.prepare(Self.schema)
    }

    /// The queue and the worker registry: PostgreSQL only (a cluster needs it).
    public static let schema = Schema(
        component: "cluster",
        migrations: [
            Migration(
                version: 1, name: "the invocation queue and the worker registry", sqlite: nil,
                postgres: [
                    """
                    CREATE TABLE queue (
                        id TEXT PRIMARY KEY, request BYTEA NOT NULL, affinity TEXT NOT NULL,
                        enqueued_at DOUBLE PRECISION NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                        max_attempts INTEGER NOT NULL, worker TEXT, lease_until DOUBLE PRECISION)
                    """,
                    "CREATE INDEX queue_by_time ON queue (enqueued_at)",
                    "CREATE INDEX queue_by_affinity ON queue (affinity, enqueued_at)",
                    """
                    CREATE TABLE workers (
                        id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, memory_mb INTEGER NOT NULL,
                        slots INTEGER NOT NULL, running INTEGER NOT NULL DEFAULT 0, warm TEXT[] NOT NULL DEFAULT '{}',
                        started_at DOUBLE PRECISION NOT NULL, heartbeat_at DOUBLE PRECISION NOT NULL)
                    """,
                ]),
        ],
        legacyVersions: [5: 1])

    /// A claimed invocation: its request as stored (sealed with keys; see
    /// ``openRequest(_:)``), which claim this is, and its invocation row as the claim
    /// read it (nil if the row is gone): the plaintext the seal is bound to.
    public struct Claim: Sendable {
        public let id: String
        public let request: [UInt8]
        /// 1 for the first claim, 2 after one lost worker, …
        public let attempt: Int
        public let recorded: InvocationRecord?
    }

    /// What a queued request's seal authenticates beside its bytes: the plaintext
    /// metadata of its invocation row, each field length-prefixed (no two encode alike).
    static func requestBinding(_ metadata: InvocationRecord) -> [UInt8] {
        var out = Array("faasten queued request 1".utf8)
        let fields = [
            metadata.id, metadata.gate.map { "\($0)" } ?? "-", metadata.target, metadata.parent.map { "p" + $0 } ?? "-", metadata.invoker, metadata.startLabel,
            "\(metadata.submittedAt.bitPattern)",
        ]
        for field in fields {
            let bytes = Array(field.utf8)
            out += withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init) + bytes
        }
        return out
    }

    /// A claim's request, opened and checked against its metadata; throws
    /// ``KeyError/tampered(_:)`` (reported) when it does not open. In clear without keys.
    public func openRequest(_ claim: Claim) throws(KeyError) -> [UInt8] {
        guard let keys else { return claim.request }
        guard let metadata = claim.recorded else {
            keys.reportTampering("queued request \(claim.id): its invocation record is missing")
            throw .tampered("queued request \(claim.id): its invocation record is missing")
        }
        return try keys.open(claim.request, binding: Self.requestBinding(metadata), what: "queued request \(claim.id)")
    }

    /// A worker as registered, with its last heartbeat.
    public struct WorkerRecord: Sendable, Hashable {
        public let id: String
        public let host: String
        public let pid: Int
        public let memoryMB: Int
        public let slots: Int
        public let running: Int
        public let warm: [String]
        public let startedAt: Double
        public let heartbeatAt: Double
        /// Seconds since the last heartbeat, by the database's clock.
        public let silentFor: Double
    }

    private static let now = "EXTRACT(EPOCH FROM clock_timestamp())::double precision"

    // MARK: Gateways

    /// Records `row` as queued and enqueues `request`: one statement, so one
    /// transaction and one round trip.
    public func enqueue(_ row: InvocationRecord, request: [UInt8], affinity: String, maxAttempts: Int) async throws {
        let sealed = try keys.map { try $0.seal(request, binding: Self.requestBinding(row)) } ?? request
        let bytes = ByteBuffer(bytes: sealed)
        _ = try await store.statement(
            """
            WITH recorded AS (
                INSERT INTO invocations (id, gate, target, parent, invoker, start_label, status, submitted_at)
                VALUES (\(row.id), \(row.gate), \(row.target), \(row.parent), \(row.invoker), \(row.startLabel), 'queued',
                    \(row.submittedAt))),
            queued AS (
                INSERT INTO queue (id, request, affinity, enqueued_at, max_attempts)
                VALUES (\(row.id), \(bytes), \(affinity), \(unescaped: Self.now), \(Int32(clamping: maxAttempts))))
            SELECT pg_notify(\(Self.workChannel), '')
            """)
    }

    /// Records a final row that was never queued (a refusal) and announces it.
    public func recordFinal(_ row: InvocationRecord) async throws {
        let keys = keys
        try await store.writeTransaction { statements in
            try InvocationRecords.save(row, in: statements.shared, sealedWith: keys)
            _ = try statements.query("SELECT pg_notify(\(Self.doneChannel), \(row.id))")
        }
    }

    /// How many invocations wait for a worker, and how many are leased.
    public func depth() async throws -> (queued: Int, leased: Int) {
        let rows = try await store.statement(
            """
            SELECT COUNT(*) FILTER (WHERE worker IS NULL OR lease_until < \(unescaped: Self.now)),
                COUNT(*) FILTER (WHERE worker IS NOT NULL AND lease_until >= \(unescaped: Self.now)) FROM queue
            """)
        guard let row = rows.first else { return (0, 0) }
        let (queued, leased) = try row.decode((Int64, Int64).self)
        return (Int(queued), Int(leased))
    }

    // MARK: Workers

    /// Adds (or replaces) a worker's registration.
    public func register(id: String, host: String, pid: Int, memoryMB: Int, slots: Int) async throws {
        try await store.writeTransaction { statements in
            _ = try statements.query(
                """
                INSERT INTO workers (id, host, pid, memory_mb, slots, started_at, heartbeat_at)
                VALUES (\(id), \(host), \(Int32(clamping: pid)), \(Int32(clamping: memoryMB)), \(Int32(clamping: slots)),
                    \(unescaped: Self.now), \(unescaped: Self.now))
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at
                """)
            // Registrations silent for a day are of workers long gone.
            _ = try statements.query("DELETE FROM workers WHERE heartbeat_at < \(unescaped: Self.now) - 86400")
        }
    }

    /// Removes a worker's registration (it stopped cleanly).
    public func deregister(_ id: String) async throws {
        _ = try await store.statement("DELETE FROM workers WHERE id = \(id)")
    }

    /// Every registered worker.
    public func workers() async throws -> [WorkerRecord] {
        try await store.statement(
            """
            SELECT id, host, pid, memory_mb, slots, running, warm, started_at, heartbeat_at,
                \(unescaped: Self.now) - heartbeat_at FROM workers ORDER BY started_at
            """
        ).map { row in
                let (id, host, pid, memory, slots, running, warm, startedAt, heartbeatAt, silent) = try row.decode(
                    (String, String, Int32, Int32, Int32, Int32, [String], Double, Double, Double).self)
            return WorkerRecord(
                id: id, host: host, pid: Int(pid), memoryMB: Int(memory), slots: Int(slots), running: Int(running), warm: warm,
                startedAt: startedAt, heartbeatAt: heartbeatAt, silentFor: silent)
        }
    }

    /// The heartbeat: extends the leases `worker` holds by `lease` seconds and publishes
    /// its load and warm sandboxes. Returns the ids it still holds (one it no longer
    /// holds was taken over after its lease ran out).
    public func heartbeat(worker: String, lease: Double, running: Int, warm: [String]) async throws -> Set<String> {
        let rows = try await store.statement(
            """
            WITH registered AS (
                UPDATE workers SET heartbeat_at = \(unescaped: Self.now), running = \(Int32(clamping: running)), warm = \(warm)
                WHERE id = \(worker))
            UPDATE queue SET lease_until = \(unescaped: Self.now) + \(lease) WHERE worker = \(worker) RETURNING id
            """)
        return Set(try rows.map { try $0.decode(String.self) })
    }

    /// Claims up to `limit` invocations for `worker`, leased for `lease` seconds, and
    /// marks them running.
    ///
    /// Cache-aware: first those whose affinity is in `warm` (a sandbox for them is warm
    /// here); then, oldest first, those no other live worker with a free slot is warm
    /// for, or that have waited longer than `preferenceWindow` seconds (the warm worker
    /// did not take them).
    public func claim(
        worker: String, limit: Int, warm: [String], running: Int, lease: Double, preferenceWindow: Double = 0.05,
        liveWithin: Double = 30
    ) async throws -> [Claim] {
        guard limit > 0 else { return [] }
        // One statement: the warm ones first (a sort over what is claimable, which is
        // cheap beside a round trip: a second statement for the rest cost more).
        let rows = try await store.statement(
            """
            WITH picked AS (
                SELECT q.id FROM queue q
                WHERE (q.worker IS NULL OR q.lease_until < \(unescaped: Self.now)) AND q.attempts < q.max_attempts
                    AND (q.affinity = ANY(\(warm)) OR q.enqueued_at <= \(unescaped: Self.now) - \(preferenceWindow) OR NOT EXISTS (
                        SELECT 1 FROM workers w WHERE w.id <> \(worker) AND w.heartbeat_at > \(unescaped: Self.now) - \(liveWithin)
                            AND w.running < w.slots AND q.affinity = ANY(w.warm)))
                ORDER BY q.affinity = ANY(\(warm)) DESC, q.enqueued_at LIMIT \(Int64(limit)) FOR UPDATE OF q SKIP LOCKED),
            claimed AS (
                UPDATE queue SET worker = \(worker), lease_until = \(unescaped: Self.now) + \(lease), attempts = queue.attempts + 1
                FROM picked WHERE queue.id = picked.id
                RETURNING queue.id, queue.request, queue.attempts),
            started AS (
                UPDATE invocations SET status = 'running', started_at = \(unescaped: Self.now), worker = \(worker),
                    attempts = claimed.attempts
                FROM claimed WHERE invocations.id = claimed.id),
            registered AS (
                UPDATE workers SET running = \(Int32(clamping: running)) + (SELECT COUNT(*) FROM claimed), warm = \(warm),
                    heartbeat_at = \(unescaped: Self.now)
                WHERE id = \(worker))
            SELECT c.id, c.request, c.attempts, i.gate, i.target, i.parent, i.invoker, i.start_label, i.submitted_at
            FROM claimed c LEFT JOIN invocations i ON i.id = c.id
            """)
        return try rows.map { row in
            let (id, request, attempts, gate, target, parent, invoker, startLabel, submittedAt) = try row.decode(
                (String, ByteBuffer, Int32, Int64?, String?, String?, String?, String?, Double?).self)
            // A row the LEFT JOIN did not find comes back as NULLs.
            var recorded: InvocationRecord?
            if let target, let invoker, let startLabel, let submittedAt {
                recorded = InvocationRecord(
                    id: id, gate: gate, target: target, parent: parent, invoker: invoker, startLabel: startLabel, status: .queued,
                    submittedAt: submittedAt)
            }
            return Claim(id: id, request: Array(request.readableBytesView), attempt: Int(attempts), recorded: recorded)
        }
    }

    /// Writes the final record of a claimed invocation, if the claim still holds (the
    /// queue row is `worker`'s `attempt`); `false`, and nothing written, if another
    /// worker took it over.
    public func complete(_ row: InvocationRecord, worker: String, attempt: Int) async throws -> Bool {
        // The record's columns are the engine's: its values from InvocationRecords, in the
        // order of InvocationRecords.columns (PostgreSQL needs a type for every parameter,
        // so only those used are passed).
        let record = try InvocationRecords.values(row, sealedWith: keys)
        let values = [0, 1, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16].map { record[$0] }
            + [.text(worker), .integer(Int64(attempt)), .text(Self.doneChannel)]
        let rows = try await store.statement(
            """
            WITH claimed AS (
                DELETE FROM queue WHERE id = ?1 AND worker = ?13 AND attempts = ?14 RETURNING id),
            recorded AS (
                UPDATE invocations SET gate = ?2, status = ?3, started_at = ?4, finished_at = ?5, response_status = ?6,
                    result = ?7, result_label = ?8, error_code = ?9, error = ?10, logs = ?11, log_label = ?12,
                    worker = ?13, attempts = ?14
                FROM claimed WHERE invocations.id = claimed.id
                RETURNING invocations.id),
            freed AS (
                UPDATE workers SET running = GREATEST(running - 1, 0) WHERE id = ?13 AND EXISTS (SELECT 1 FROM claimed))
            SELECT pg_notify(?15, id) FROM recorded
            """, values)
        return !rows.isEmpty
    }

    /// Gives claimed invocations back unrun (a worker stopping): they are queued again
    /// and the claim does not count as an attempt.
    public func giveBack(_ ids: [String], worker: String) async throws {
        guard !ids.isEmpty else { return }
        try await store.writeTransaction { statements in
            let returned = try statements.query(
                """
                UPDATE queue SET worker = NULL, lease_until = NULL, attempts = GREATEST(attempts - 1, 0)
                WHERE id = ANY(\(ids)) AND worker = \(worker) RETURNING id
                """
            ).map { try $0.decode(String.self) }
            _ = try statements.query("UPDATE invocations SET status = 'queued', started_at = NULL, worker = NULL WHERE id = ANY(\(returned))")
            _ = try statements.query("SELECT pg_notify(\(Self.workChannel), '')")
        }
    }

    /// Fails the invocations whose lease ran out on their last allowed attempt, with
    /// the reason; returns their ids.
    ///
    /// The record carries the invocation's start label: the loss of a worker is not
    /// something the function decides (its memory and time are bounded by its sandbox),
    /// so it reveals nothing the function read.
    public func failAbandoned() async throws -> [String] {
        try await store.statement(
            """
            WITH dead AS (
                DELETE FROM queue WHERE worker IS NOT NULL AND lease_until < \(unescaped: Self.now) AND attempts >= max_attempts
                RETURNING id, worker, attempts),
            failed AS (
                UPDATE invocations SET status = 'failed', finished_at = \(unescaped: Self.now), result_label = start_label,
                    attempts = dead.attempts, worker = dead.worker, error_code = 'lost',
                    error = 'the worker running it stopped answering on each of its ' || dead.attempts
                        || ' attempts (last: worker ' || dead.worker || '); not retried again'
                FROM dead WHERE invocations.id = dead.id
                RETURNING invocations.id)
            SELECT id, pg_notify(\(Self.doneChannel), id) FROM failed
            """
        ).map { try $0.decode((String, String).self).0 }
    }

    // MARK: Notifications

    /// Listens on `channel` (``workChannel`` or ``doneChannel``); see ``PostgresStore/listen(_:listening:handler:)``.
    public func listen(
        _ channel: String, listening: @escaping @Sendable () -> Void, handler: @escaping @Sendable (String) -> Void
    ) -> PostgresListener {
        store.listen(channel, listening: listening, handler: handler)
    }
}
