import Store

/// The invocation records' table, owned by the engine: its schema and its SQL, written
/// once for both stores over the store's SQL seam.
///
/// ```swift
/// try store.prepare(InvocationRecords.schema)
/// try await store.transaction(.write) { try InvocationRecords.save(record, in: $0) }
/// ```
public enum InvocationRecords {
    public static let schema = Schema(
        component: "invocations",
        migrations: [
            Migration(
                version: 1, name: "invocation records",
                sqlite: [
                    """
                    CREATE TABLE invocations (
                        id TEXT PRIMARY KEY, gate INTEGER, target TEXT NOT NULL, parent TEXT, invoker TEXT NOT NULL,
                        start_label TEXT NOT NULL, status TEXT NOT NULL, submitted_at REAL NOT NULL, started_at REAL,
                        finished_at REAL, response_status INTEGER, result BLOB, result_label TEXT, error TEXT, logs BLOB,
                        log_label TEXT)
                    """,
                    "CREATE INDEX invocations_by_time ON invocations (submitted_at)",
                ],
                postgres: [
                    """
                    CREATE TABLE invocations (
                        id TEXT PRIMARY KEY, gate BIGINT, target TEXT NOT NULL, parent TEXT, invoker TEXT NOT NULL,
                        start_label TEXT NOT NULL, status TEXT NOT NULL, submitted_at DOUBLE PRECISION NOT NULL,
                        started_at DOUBLE PRECISION, finished_at DOUBLE PRECISION, response_status INTEGER, result BYTEA,
                        result_label TEXT, error TEXT, logs BYTEA, log_label TEXT)
                    """,
                    "CREATE INDEX invocations_by_time ON invocations (submitted_at)",
                ]),
            Migration(
                version: 2, name: "the cluster worker that ran it, and its attempts",
                sqlite: [
                    "ALTER TABLE invocations ADD COLUMN worker TEXT",
                    "ALTER TABLE invocations ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
                ],
                postgres: [
                    "ALTER TABLE invocations ADD COLUMN worker TEXT",
                    "ALTER TABLE invocations ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
                ]),
            // The outcome's code beside its reason, instead of one `code: reason` text
            // that readers parsed back by prefix.
            Migration(
                version: 3, name: "a typed outcome",
                sqlite: [
                    "ALTER TABLE invocations ADD COLUMN error_code TEXT",
                    """
                    UPDATE invocations SET error_code = substr(error, 1, instr(error, ': ') - 1),
                        error = substr(error, instr(error, ': ') + 2)
                    WHERE error IS NOT NULL AND instr(error, ': ') > 0
                    """,
                ],
                postgres: [
                    "ALTER TABLE invocations ADD COLUMN error_code TEXT",
                    """
                    UPDATE invocations SET error_code = split_part(error, ': ', 1),
                        error = substr(error, strpos(error, ': ') + 2)
                    WHERE error IS NOT NULL AND strpos(error, ': ') > 0
                    """,
                ]),
        ],
        legacyVersions: [2: 1, 5: 2])

    /// The columns in the order ``record(_:)`` reads them.
    static let columns = """
        id, gate, target, parent, invoker, start_label, status, submitted_at, started_at, finished_at, response_status,
        result, result_label, error_code, error, logs, log_label, worker, attempts
        """

    /// Inserts or replaces `record`.
    public static func save(_ record: InvocationRecord, in transaction: any StoreTransaction) throws {
        _ = try transaction.execute(
            """
            INSERT INTO invocations (\(columns))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET gate = excluded.gate, status = excluded.status, started_at = excluded.started_at,
                finished_at = excluded.finished_at, response_status = excluded.response_status, result = excluded.result,
                result_label = excluded.result_label, error_code = excluded.error_code, error = excluded.error,
                logs = excluded.logs, log_label = excluded.log_label, worker = excluded.worker, attempts = excluded.attempts
            """, values(record))
    }

    /// The record with this id, if any.
    public static func load(_ id: String, in transaction: any StoreTransaction) throws -> InvocationRecord? {
        try transaction.query("SELECT \(columns) FROM invocations WHERE id = ?", [.text(id)]).first.map(record)
    }

    /// The values of `record` for ``columns``.
    public static func values(_ record: InvocationRecord) -> [SQLValue] {
        var responseStatus: Int?
        var result: [UInt8]?
        var reason: String?
        switch record.outcome {
        case let .completed(status, body)?:
            responseStatus = status
            result = body
        case let .refused(text)?, let .failed(_, text)?, let .busy(text)?:
            reason = text
        case nil:
            break
        }
        return [
            .text(record.id), .int(record.gate.map(Int.init)), .text(record.target), .string(record.parent), .text(record.invoker),
            .text(record.startLabel), .text(record.status.rawValue), .real(record.submittedAt), .double(record.startedAt),
            .double(record.finishedAt), .int(responseStatus), .bytes(result), .string(record.resultLabel),
            .string(record.outcome?.code), .string(reason), .bytes(record.logs), .string(record.logLabel), .string(record.worker),
            .int(record.attempts),
        ]
    }

    /// A record from a row of ``columns``.
    public static func record(_ row: SQLRow) throws -> InvocationRecord {
        let text = try row.string(6)
        guard let status = InvocationRecord.Status(rawValue: text) else { throw StoreError("an invocation's status is '\(text)'") }
        var outcome: InvocationRecord.Outcome?
        if status.isFinal {
            let code = try row.optionalString(13)
            let reason = try row.optionalString(14) ?? "no reason was recorded"
            switch (status, code) {
            case (.completed, _): outcome = .completed(status: try row.optionalInt(10) ?? 200, body: try row.optionalBytes(11) ?? [])
            case (_, "refused"): outcome = .refused(reason: reason)
            case (_, "busy"): outcome = .busy(reason: reason)
            case let (_, code): outcome = .failed(code: code ?? "failed", reason: reason)
            }
        }
        return InvocationRecord(
            id: try row.string(0), gate: try row.optionalInt(1).map(Int64.init), target: try row.string(2),
            parent: try row.optionalString(3), invoker: try row.string(4), startLabel: try row.string(5), status: status,
            submittedAt: try row.double(7), startedAt: try row.optionalDouble(8), finishedAt: try row.optionalDouble(9),
            outcome: outcome, resultLabel: try row.optionalString(12), logs: try row.optionalBytes(15),
            logLabel: try row.optionalString(16), worker: try row.optionalString(17), attempts: try row.optionalInt(18) ?? 0)
    }
}
