import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The durable invocation queue of a cluster, in the same PostgreSQL database as the
/// file system.
///
/// ```swift
/// let queue = PostgresQueue(store: store)
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
/// Times are the database server's clock, so that machines' clocks need not agree.
public final class PostgresQueue: Sendable {
    /// Notified (empty payload) when work is enqueued.
    public static let workChannel = "faasten_work"
    /// Notified with the invocation id when an invocation's record is final.
    public static let doneChannel = "faasten_done"

    let store: PostgresStore
    private var executor: PostgresExecutor { store.executor }

    public init(store: PostgresStore) {
        self.store = store
    }

    /// A claimed invocation: its encoded request and which claim this is.
    public struct Claim: Sendable {
        public let id: String
        public let request: [UInt8]
        /// 1 for the first claim, 2 after one lost worker, …
        public let attempt: Int
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
    public func enqueue(_ row: InvocationRow, request: [UInt8], affinity: String, maxAttempts: Int) async throws {
        let bytes = ByteBuffer(bytes: request)
        _ = try await statement(
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
    public func recordFinal(_ row: InvocationRow) async throws {
        try await transaction { connection, executor in
            _ = try executor.query(connection, PostgresTransaction.saveInvocationQuery(row))
            _ = try executor.query(connection, "SELECT pg_notify(\(Self.doneChannel), \(row.id))")
        }
    }

    /// How many invocations wait for a worker, and how many are leased.
    public func depth() async throws -> (queued: Int, leased: Int) {
        try await store.executor.run { connection in
            let rows = try self.executor.query(
                connection,
                """
                SELECT COUNT(*) FILTER (WHERE worker IS NULL OR lease_until < \(unescaped: Self.now)),
                    COUNT(*) FILTER (WHERE worker IS NOT NULL AND lease_until >= \(unescaped: Self.now)) FROM queue
                """
            ).rows
            guard let row = rows.first else { return (0, 0) }
            let (queued, leased) = try row.decode((Int64, Int64).self)
            return (Int(queued), Int(leased))
        }
    }

    // MARK: Workers

    /// Adds (or replaces) a worker's registration.
    public func register(id: String, host: String, pid: Int, memoryMB: Int, slots: Int) async throws {
        try await transaction { connection, executor in
            _ = try executor.query(
                connection,
                """
                INSERT INTO workers (id, host, pid, memory_mb, slots, started_at, heartbeat_at)
                VALUES (\(id), \(host), \(Int32(clamping: pid)), \(Int32(clamping: memoryMB)), \(Int32(clamping: slots)),
                    \(unescaped: Self.now), \(unescaped: Self.now))
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at
                """)
            // Registrations silent for a day are of workers long gone.
            _ = try executor.query(connection, "DELETE FROM workers WHERE heartbeat_at < \(unescaped: Self.now) - 86400")
        }
    }

    /// Removes a worker's registration (it stopped cleanly).
    public func deregister(_ id: String) async throws {
        try await transaction { connection, executor in
            _ = try executor.query(connection, "DELETE FROM workers WHERE id = \(id)")
        }
    }

    /// Every registered worker.
    public func workers() async throws -> [WorkerRecord] {
        try await store.executor.run { connection in
            try self.executor.query(
                connection,
                """
                SELECT id, host, pid, memory_mb, slots, running, warm, started_at, heartbeat_at,
                    \(unescaped: Self.now) - heartbeat_at FROM workers ORDER BY started_at
                """
            ).rows.map { row in
                let (id, host, pid, memory, slots, running, warm, startedAt, heartbeatAt, silent) = try row.decode(
                    (String, String, Int32, Int32, Int32, Int32, [String], Double, Double, Double).self)
                return WorkerRecord(
                    id: id, host: host, pid: Int(pid), memoryMB: Int(memory), slots: Int(slots), running: Int(running), warm: warm,
                    startedAt: startedAt, heartbeatAt: heartbeatAt, silentFor: silent)
            }
        }
    }

    /// The heartbeat: extends the leases `worker` holds by `lease` seconds and publishes
    /// its load and warm sandboxes. Returns the ids it still holds (one it no longer
    /// holds was taken over after its lease ran out).
    public func heartbeat(worker: String, lease: Double, running: Int, warm: [String]) async throws -> Set<String> {
        let rows = try await statement(
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
        let rows = try await statement(
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
            SELECT id, request, attempts FROM claimed
            """)
        return try rows.map { row in
            let (id, request, attempts) = try row.decode((String, ByteBuffer, Int32).self)
            return Claim(id: id, request: Array(request.readableBytesView), attempt: Int(attempts))
        }
    }

    /// Writes the final record of a claimed invocation, if the claim still holds (the
    /// queue row is `worker`'s `attempt`); `false`, and nothing written, if another
    /// worker took it over.
    public func complete(_ row: InvocationRow, worker: String, attempt: Int) async throws -> Bool {
        let result = row.result.map { ByteBuffer(bytes: $0) }
        let logs = row.logs.map { ByteBuffer(bytes: $0) }
        let responseStatus = row.responseStatus.map { Int32(clamping: $0) }
        let rows = try await statement(
            """
            WITH claimed AS (
                DELETE FROM queue WHERE id = \(row.id) AND worker = \(worker) AND attempts = \(Int32(clamping: attempt))
                RETURNING id),
            recorded AS (
                UPDATE invocations SET gate = \(row.gate), status = \(row.status), started_at = \(row.startedAt),
                    finished_at = \(row.finishedAt), response_status = \(responseStatus), result = \(result),
                    result_label = \(row.resultLabel), error = \(row.error), logs = \(logs), log_label = \(row.logLabel),
                    worker = \(worker), attempts = \(Int32(clamping: attempt))
                FROM claimed WHERE invocations.id = claimed.id
                RETURNING invocations.id),
            freed AS (
                UPDATE workers SET running = GREATEST(running - 1, 0) WHERE id = \(worker) AND EXISTS (SELECT 1 FROM claimed))
            SELECT pg_notify(\(Self.doneChannel), id) FROM recorded
            """)
        return !rows.isEmpty
    }

    /// Gives claimed invocations back unrun (a worker stopping): they are queued again
    /// and the claim does not count as an attempt.
    public func giveBack(_ ids: [String], worker: String) async throws {
        guard !ids.isEmpty else { return }
        try await transaction { connection, executor in
            let returned = try executor.query(
                connection,
                """
                UPDATE queue SET worker = NULL, lease_until = NULL, attempts = GREATEST(attempts - 1, 0)
                WHERE id = ANY(\(ids)) AND worker = \(worker) RETURNING id
                """
            ).rows.map { try $0.decode(String.self) }
            _ = try executor.query(
                connection,
                "UPDATE invocations SET status = 'queued', started_at = NULL, worker = NULL WHERE id = ANY(\(returned))")
            _ = try executor.query(connection, "SELECT pg_notify(\(Self.workChannel), '')")
        }
    }

    /// Fails the invocations whose lease ran out on their last allowed attempt, with
    /// the reason; returns their ids.
    ///
    /// The record carries the invocation's start label: the loss of a worker is not
    /// something the function decides (its memory and time are bounded by its sandbox),
    /// so it reveals nothing the function read.
    public func failAbandoned() async throws -> [String] {
        try await statement(
            """
            WITH dead AS (
                DELETE FROM queue WHERE worker IS NOT NULL AND lease_until < \(unescaped: Self.now) AND attempts >= max_attempts
                RETURNING id, worker, attempts),
            failed AS (
                UPDATE invocations SET status = 'failed', finished_at = \(unescaped: Self.now), result_label = start_label,
                    attempts = dead.attempts, worker = dead.worker,
                    error = 'lost: the worker running it stopped answering on each of its ' || dead.attempts
                        || ' attempts (last: worker ' || dead.worker || '); not retried again'
                FROM dead WHERE invocations.id = dead.id
                RETURNING invocations.id)
            SELECT id, pg_notify(\(Self.doneChannel), id) FROM failed
            """
        ).map { try $0.decode((String, String).self).0 }
    }

    // MARK: Notifications

    /// Listens on `channel` with a connection of its own, calling `handler` with each
    /// payload, and `listening` each time the LISTEN is (re-)established: notifications
    /// sent while the connection was down are lost, so whoever waits must look again.
    public func listen(
        _ channel: String, listening: @escaping @Sendable () -> Void, handler: @escaping @Sendable (String) -> Void
    ) -> PostgresListener {
        let listener = PostgresListener(
            location: store.location, eventLoops: executor.eventLoops, logger: executor.logger, channel: channel,
            listening: listening, handler: handler)
        executor.listeners.add(listener)
        return listener
    }

    // MARK: Statements

    /// One statement (its own transaction), retried on a deadlock.
    private func statement(_ query: PostgresQuery) async throws -> [PostgresRow] {
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

    private func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, PostgresExecutor) throws -> T
    ) async throws -> T {
        let executor = executor
        return try await executor.run { connection in
            try executor.inTransaction(connection, .write) { try body(connection, executor) }
        }
    }
}

/// A LISTEN on its own connection, re-established after a failure, until cancelled.
public final class PostgresListener: Sendable {
    private let task: Task<Void, Never>

    init(
        location: PostgresLocation, eventLoops: any EventLoopGroup, logger: Logger, channel: String,
        listening: @escaping @Sendable () -> Void, handler: @escaping @Sendable (String) -> Void
    ) {
        task = Task {
            var connectionID = 0
            var backoff = Duration.milliseconds(100)
            while !Task.isCancelled {
                connectionID += 1
                do {
                    let connection = try await PostgresConnection.connect(
                        on: eventLoops.next(), configuration: try location.configuration(), id: connectionID, logger: logger)
                    do {
                        try await connection.listen(on: channel) { notifications in
                            backoff = .milliseconds(100)
                            listening()
                            for try await notification in notifications {
                                handler(notification.payload)
                            }
                        }
                    } catch {
                        if !Task.isCancelled { logger.warning("LISTEN \(channel) failed, reconnecting: \(String(reflecting: error))") }
                    }
                    try? await connection.close()
                } catch {
                    logger.warning("cannot connect to listen on \(channel): \(String(reflecting: error))")
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Stops listening and closes the connection.
    public func cancel() {
        task.cancel()
    }

    /// Stops listening and waits until the connection is closed.
    func stop() async {
        task.cancel()
        await task.value
    }
}
