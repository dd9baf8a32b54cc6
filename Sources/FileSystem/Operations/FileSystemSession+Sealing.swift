import Keys
import Labels
import Store

/// Content at rest. With a key ring, the data of every file, gate, service and blob
/// entry is sealed (AES-256-GCM) and bound to its row: id, kind, label and version. A
/// value moved to another object, an object relabelled in the database, or its data
/// rolled back to an earlier version does not open: the read fails as tampering (an
/// audit entry) and nothing is released. A value in clear where a sealed one belongs
/// is tampering too. Directories hold no data; names and labels stay in clear (the
/// metadata every check needs).
extension FileSystemSession {
    /// What a row's data says: opened when sealing. Only a directory's empty data is
    /// not sealed: anything else in clear (whatever kind the row claims) is tampering.
    func content(of record: ObjectRecord) throws(FSError) -> [UInt8] {
        guard let keys else { return record.data }
        if record.data.isEmpty, !Self.sealedKinds.contains(record.kind) { return [] }
        guard KeyRing.isSealed(record.data) else {
            throw tampered(keys, "object #\(record.id): its content is in clear where a sealed value belongs")
        }
        do {
            return try keys.open(
                record.data, binding: Self.binding(record.id, record.kind, record.label, record.version), what: "object #\(record.id)",
                reading: transaction)
        } catch {
            throw FSError(error)
        }
    }

    /// When sealing: the row must be what the entry that names it says, the kind and the
    /// label the flow rules were applied to (a label changed in `entries` alone would
    /// otherwise let the rules pass on a label the sealed content is not bound to).
    func checkRow(_ record: ObjectRecord, of entry: Entry, _ kind: ObjectKind) throws(FSError) {
        guard let keys else { return }
        let label = try record.label.map { (text) throws(FSError) in try cache.label(text) }
        guard record.kind == kind.rawValue, label == entry.label else {
            throw tampered(
                keys, "object #\(record.id): its row (kind \(record.kind), label \(record.label ?? "-")) is not what its entry says "
                    + "(\(kind), label \(entry.label.map(\.description) ?? "-"))")
        }
    }

    /// Reports tampering (the audit log) and returns the error to throw.
    private func tampered(_ keys: KeyRing, _ what: String) -> FSError {
        keys.reportTampering(what)
        return .tampered(what)
    }

    /// Stores `content` as the data of object `id` (sealed for its next version when
    /// sealing). `record`: the row as it is now, if already read.
    func storeContent(_ content: [UInt8], of id: ObjectID, record known: ObjectRecord? = nil) throws(FSError) {
        guard let keys else {
            try store { try transaction.updateObjectData(id, data: content) }
            return
        }
        let record: ObjectRecord
        if let known {
            record = known
        } else {
            record = try self.record(id, forUpdate: true)
        }
        guard Self.sealedKinds.contains(record.kind) else {
            try store { try transaction.updateObjectData(id, data: content) }
            return
        }
        let sealed: [UInt8]
        do {
            sealed = try keys.seal(content, binding: Self.binding(id, record.kind, record.label, record.version + 1))
        } catch {
            throw .storage("\(error)")
        }
        try store { try transaction.updateObjectData(id, data: sealed) }
    }

    /// Inserts an object with `content` (sealed when sealing: inserted empty, then
    /// written, so that the binding has its id).
    func insertObject(kind: ObjectKind, label: String?, content: [UInt8]) throws(FSError) -> ObjectID {
        guard keys != nil, Self.sealedKinds.contains(kind.rawValue) else {
            return try store { try transaction.insertObject(kind: kind.rawValue, label: label, data: content) }
        }
        let id = try store { try transaction.insertObject(kind: kind.rawValue, label: label, data: []) }
        try storeContent(content, of: id, record: ObjectRecord(id: id, kind: kind.rawValue, label: label, data: [], version: 0, entryCount: 0))
        return id
    }

    static let sealedKinds = Set([ObjectKind.file, .gate, .service, .blob].map(\.rawValue))

    /// What a sealed value of a row is bound to.
    static func binding(_ id: ObjectID, _ kind: Int, _ label: String?, _ version: Int64) -> [UInt8] {
        Array("faasten object \(id) kind \(kind) label \(label ?? "-") version \(version)".utf8)
    }
}
