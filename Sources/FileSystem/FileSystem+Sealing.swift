import Labels
import Keys
import Store

/// Bringing a store under encryption at rest (see `FileSystemSession+Sealing.swift`).
extension FileSystem {
    /// For ``KeyRing/open(store:master:onEvent:beforeFirstKey:)``: a store without data
    /// keys must not hold sealed values. If it does, its keys were removed from the
    /// database: starting over with new keys would lose those values and let values
    /// planted in clear be sealed as genuine, so this refuses, changing nothing.
    public static func checkNoSealedContent(in store: any Store) async throws(KeyError) {
        do {
            try await forEachContentPage(store) { page in
                if let sealed = page.first(where: { KeyRing.isSealed($0.data) }) {
                    throw KeyError.tampered(
                        "the store holds sealed values (object #\(sealed.id)) but no data keys: restore the data_keys table from a "
                            + "backup; nothing was changed")
                }
            }
        } catch let error as KeyError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    /// Seals every value still in clear: once, when the store's first data key was just
    /// made (a store from before encryption at rest). Returns how many were sealed.
    @discardableResult
    public func sealContentInClear() async throws(FSError) -> Int {
        guard keys != nil else { return 0 }
        var sealed = 0
        do {
            try await Self.forEachContentPage(store) { page in
                let inClear = page.filter { !KeyRing.isSealed($0.data) }.map(\.id)
                guard !inClear.isEmpty else { return }
                var system = try SecurityContext(privilege: .root)
                try await transaction(.write, &system) { session, _ throws(FSError) in
                    for id in inClear {
                        let record = try session.record(id, forUpdate: true)
                        guard !KeyRing.isSealed(record.data) else { continue }
                        try session.storeContent(record.data, of: id, record: record)
                    }
                }
                sealed += inClear.count
            }
        } catch let error as FSError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
        return sealed
    }

    /// Moves every object's content sealed with an older data key to the current one
    /// (after `faasten keys rotate --data`), a page at a time, each row re-read and
    /// rewritten under its lock in one transaction, so that a write made meanwhile is
    /// never overwritten. Interrupted, it is resumed by running it again: what was moved
    /// stays moved, and what was not still opens with its old key. `progress` gets the
    /// count moved so far after each page. Returns how many values were moved.
    @discardableResult
    public func resealWithCurrentKey(progress: (Int) -> Void = { _ in }) async throws(FSError) -> Int {
        guard let keys else { return 0 }
        var moved = 0
        do {
            try await Self.forEachContentPage(store) { page in
                let old = page.filter { KeyRing.isSealed($0.data) && !keys.isSealedWithCurrentKey($0.data) }.map(\.id)
                guard !old.isEmpty else { return }
                var system = try SecurityContext(privilege: .root)
                moved += try await transaction(.write, &system) { session, _ throws(FSError) -> Int in
                    var count = 0
                    for id in old {
                        let record = try session.record(id, forUpdate: true)
                        guard KeyRing.isSealed(record.data), !keys.isSealedWithCurrentKey(record.data) else { continue }
                        try session.storeContent(try session.content(of: record), of: id, record: record)
                        count += 1
                    }
                    return count
                }
                progress(moved)
            }
        } catch let error as FSError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
        keys.report("key_data_reseal", detail: "\(moved) object values moved to the current data key")
        return moved
    }

    /// Walks the rows whose content is sealed, in pages of 256 by id.
    private static func forEachContentPage(
        _ store: any Store, _ body: ([(id: Int64, data: [UInt8])]) async throws -> Void
    ) async throws {
        var after: Int64 = 0
        while true {
            let page = try await contentPage(store, after: after)
            guard let last = page.last else { return }
            try await body(page)
            after = last.id
        }
    }

    private static func contentPage(_ store: any Store, after: Int64) async throws -> [(id: Int64, data: [UInt8])] {
        let kinds = FileSystemSession.sealedKinds.sorted().map(String.init).joined(separator: ", ")
        return try await store.transaction(.read) { transaction in
            try transaction.query(
                "SELECT id, data FROM objects WHERE kind IN (\(kinds)) AND id > ? ORDER BY id LIMIT 256", [.integer(after)]
            ).map { (id: Int64(try $0.int(0)), data: try $0.optionalBytes(1) ?? []) }
        }
    }
}
