import Foundation
import Store

/// Writes invocation records in batches: a few milliseconds late, one transaction for
/// many, so that recording does not cost a write transaction per invocation.
actor InvocationRecorder {
    private let store: any Store
    private var pending: [String: InvocationRow] = [:]
    /// Rows of the batch being written, still answered from memory until it commits.
    private var writing: [String: InvocationRow] = [:]
    private var order: [String] = []
    private var flushing: Task<Void, Never>?
    private var lastError: String?

    init(store: any Store) {
        self.store = store
    }

    /// Records `row` (replacing an earlier version of it); written within a few ms.
    func record(_ row: InvocationRow) {
        if pending[row.id] == nil { order.append(row.id) }
        pending[row.id] = row
        if flushing == nil {
            flushing = Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(5))
                await self?.flush()
            }
        }
    }

    /// Writes `row` now (an asynchronous submission must be findable when its id is returned).
    func recordNow(_ row: InvocationRow) async throws {
        pending.removeValue(forKey: row.id)
        order.removeAll { $0 == row.id }
        try await store.transaction(.write) { try $0.saveInvocation(row) }
    }

    /// The newest version of a record: pending, or stored.
    func row(_ id: String) async throws -> InvocationRow? {
        if let row = pending[id] ?? writing[id] { return row }
        return try await store.transaction(.read) { try $0.invocation(id) }
    }

    /// Writes everything pending.
    func flush() async {
        let rows = order.compactMap { pending[$0] }
        pending = [:]
        order = []
        flushing = nil
        guard !rows.isEmpty else { return }
        for row in rows { writing[row.id] = row }
        defer { for row in rows where writing[row.id] == row { writing[row.id] = nil } }
        do {
            try await store.transaction(.write) { transaction in
                for row in rows { try transaction.saveInvocation(row) }
            }
        } catch {
            lastError = "\(error)"
        }
    }

    /// Why the last batch could not be written, if it could not.
    var failure: String? { lastError }
}
