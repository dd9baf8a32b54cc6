import FileSystem
import Foundation
import Logging
import Store
import JSONValues

/// The audit log: who did what, to which object, with which labels. Events are
/// buffered and written in batches (a function's declassify must not wait for a
/// disk write); `flush()` writes what is pending, and the gateway flushes before it
/// answers an audit query and when it stops.
public final class AuditLog: AuditSink, @unchecked Sendable {
    let store: any Store
    let logger: Logger
    private let lock = NSLock()
    private var pending: [AuditRow] = []
    private var flushing = false

    /// The audit log in `store`, whose gateway tables are created or migrated first.
    public init(store: any Store, logger: Logger = Logger(label: "faasten.audit")) throws {
        try store.prepare(GatewaySchema.schema)
        self.store = store
        self.logger = logger
    }

    public func record(_ event: AuditEvent) {
        let labels = JSONValue.object(event.labels.mapValues(JSONValue.string)).bytes
        let row = AuditRow(
            at: Date().timeIntervalSince1970, principal: event.principal, action: event.action, object: event.object,
            labels: String(decoding: labels, as: UTF8.self), detail: event.detail)
        let start = lock.withLock { () -> Bool in
            pending.append(row)
            if flushing { return false }
            flushing = true
            return true
        }
        if start {
            Task {
                try? await Task.sleep(for: .milliseconds(20))
                await self.flush()
            }
        }
    }

    /// Writes every pending event.
    public func flush() async {
        let rows = lock.withLock { () -> [AuditRow] in
            defer {
                pending = []
                flushing = false
            }
            return pending
        }
        guard !rows.isEmpty else { return }
        do {
            try await store.transaction(.write) { transaction in try transaction.appendAudit(rows) }
        } catch {
            // Kept for the next flush rather than lost.
            logger.error("cannot write \(rows.count) audit events: \(error)")
            lock.withLock { pending.insert(contentsOf: rows, at: 0) }
        }
    }

    /// Events matching `query`, newest first (pending ones written first).
    public func events(_ query: AuditQuery) async throws -> [AuditRow] {
        await flush()
        return try await store.transaction(.read) { transaction in try transaction.audit(query) }
    }
}
