import Keys
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

    /// Inserts or replaces `record`, its result and logs sealed with `keys` (see
    /// ``values(_:sealedWith:)``).
    public static func save(_ record: InvocationRecord, in transaction: any StoreTransaction, sealedWith keys: KeyRing?) throws {
        _ = try transaction.execute(
            """
            INSERT INTO invocations (\(columns))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET gate = excluded.gate, status = excluded.status, started_at = excluded.started_at,
                finished_at = excluded.finished_at, response_status = excluded.response_status, result = excluded.result,
                result_label = excluded.result_label, error_code = excluded.error_code, error = excluded.error,
                logs = excluded.logs, log_label = excluded.log_label, worker = excluded.worker, attempts = excluded.attempts
            """, try values(record, sealedWith: keys))
    }

    /// The record with this id, if any; its result and logs opened with `keys`.
    public static func load(_ id: String, in transaction: any StoreTransaction, keys: KeyRing?) throws -> InvocationRecord? {
        try transaction.query("SELECT \(columns) FROM invocations WHERE id = ?", [.text(id)]).first.map {
            try record($0, keys: keys, reading: transaction)
        }
    }

    /// The values of `record` for ``columns``. With `keys`, the result and the logs are
    /// sealed, each bound to the invocation and the label it is released under: a
    /// result moved to another record or relabelled in the database does not open.
    public static func values(_ record: InvocationRecord, sealedWith keys: KeyRing?) throws -> [SQLValue] {
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
        if let keys {
            result = try result.map { try keys.seal($0, binding: binding(record.id, "result", record.resultLabel)) }
        }
        let logs = try keys.flatMap { keys in try record.logs.map { try keys.seal($0, binding: binding(record.id, "logs", record.logLabel)) } }
            ?? record.logs
        return [
            .text(record.id), .int(record.gate.map(Int.init)), .text(record.target), .string(record.parent), .text(record.invoker),
            .text(record.startLabel), .text(record.status.rawValue), .real(record.submittedAt), .double(record.startedAt),
            .double(record.finishedAt), .int(responseStatus), .bytes(result), .string(record.resultLabel),
            .string(record.outcome?.code), .string(reason), .bytes(logs), .string(record.logLabel), .string(record.worker),
            .int(record.attempts),
        ]
    }

    /// A record from a row of ``columns``, its result and logs opened with `keys` (read
    /// in `transaction` if a key must be looked up).
    public static func record(_ row: SQLRow, keys: KeyRing?, reading transaction: (any StoreTransaction)? = nil) throws -> InvocationRecord {
        let id = try row.string(0)
        func opened(_ bytes: [UInt8]?, _ column: String, label: String?) throws -> [UInt8]? {
            guard let keys, let bytes else { return bytes }
            guard KeyRing.isSealed(bytes) else {
                keys.reportTampering("invocation \(id) \(column): in clear where a sealed value belongs")
                throw KeyError.tampered("invocation \(id) \(column): in clear where a sealed value belongs")
            }
            return try keys.open(bytes, binding: binding(id, column, label), what: "invocation \(id) \(column)", reading: transaction)
        }
        let text = try row.string(6)
        guard let status = InvocationRecord.Status(rawValue: text) else { throw StoreError("an invocation's status is '\(text)'") }
        var outcome: InvocationRecord.Outcome?
        if status.isFinal {
            let code = try row.optionalString(13)
            let reason = try row.optionalString(14) ?? "no reason was recorded"
            switch (status, code) {
            case (.completed, _):
                let body = try opened(try row.optionalBytes(11), "result", label: try row.optionalString(12)) ?? []
                outcome = .completed(status: try row.optionalInt(10) ?? 200, body: body)
            case (_, "refused"): outcome = .refused(reason: reason)
            case (_, "busy"): outcome = .busy(reason: reason)
            case let (_, code): outcome = .failed(code: code ?? "failed", reason: reason)
            }
        }
        return InvocationRecord(
            id: id, gate: try row.optionalInt(1).map(Int64.init), target: try row.string(2),
            parent: try row.optionalString(3), invoker: try row.string(4), startLabel: try row.string(5), status: status,
            submittedAt: try row.double(7), startedAt: try row.optionalDouble(8), finishedAt: try row.optionalDouble(9),
            outcome: outcome, resultLabel: try row.optionalString(12),
            logs: try opened(try row.optionalBytes(15), "logs", label: try row.optionalString(16)),
            logLabel: try row.optionalString(16), worker: try row.optionalString(17), attempts: try row.optionalInt(18) ?? 0)
    }

    /// What a sealed result or log is bound to: its invocation, which it is, and the
    /// label it is released under.
    static func binding(_ id: String, _ column: String, _ label: String?) -> [UInt8] {
        Array("faasten invocation \(id) \(column) label \(label ?? "-")".utf8)
    }

    /// Seals the results and logs still in clear (records from before encryption at
    /// rest): once, when the store's first data key was just made. Returns how many
    /// records were sealed.
    @discardableResult
    public static func sealInClear(_ store: any Store, keys: KeyRing) async throws -> Int {
        try store.prepare(schema)
        var after = ""
        var sealed = 0
        while true {
            let start = after
            let page = try await store.transaction(.read) { transaction in
                try transaction.query(
                    "SELECT id, result, result_label, logs, log_label FROM invocations WHERE id > ? ORDER BY id LIMIT 256", [.text(start)])
            }
            guard let last = page.last else { return sealed }
            let updates = try page.compactMap { row -> [SQLValue]? in
                let id = try row.string(0)
                let result = try row.optionalBytes(1)
                let logs = try row.optionalBytes(3)
                let resultInClear = result.map { !KeyRing.isSealed($0) } ?? false
                let logsInClear = logs.map { !KeyRing.isSealed($0) } ?? false
                guard resultInClear || logsInClear else { return nil }
                let newResult = try result.map { resultInClear ? try keys.seal($0, binding: binding(id, "result", try row.optionalString(2))) : $0 }
                let newLogs = try logs.map { logsInClear ? try keys.seal($0, binding: binding(id, "logs", try row.optionalString(4))) : $0 }
                return [.bytes(newResult), .bytes(newLogs), .text(id)]
            }
            if !updates.isEmpty {
                try await store.transaction(.write) { transaction in
                    for values in updates {
                        _ = try transaction.execute("UPDATE invocations SET result = ?, logs = ? WHERE id = ?", values)
                    }
                }
                sealed += updates.count
            }
            after = try last.string(0)
        }
    }
}
