import Foundation
import Keys
import Labels
import Store

/// One transaction's view of the file system. Every operation, with its flow check,
/// is a method of a session, written once for both backends; a session is only
/// reachable inside ``FileSystem/transaction(_:_:_:)`` or
/// ``FileSystem/synchronously(_:_:_:)``, so several operations can share one
/// transaction:
///
/// ```swift
/// let bytes = try fs.synchronously(.read, &context) { session, context throws(FSError) in
///     try session.read(file: try session.resolve(path, &context), &context)
/// }
/// ```
public struct FileSystemSession {
    let transaction: any StoreTransaction
    let limits: FileSystemLimits
    let cache: FileSystemCache
    let keys: KeyRing?

    /// The transaction's rows outside the file system (accounts, triggers, deliveries),
    /// for the trusted gateway when it must change them in the same transaction as
    /// file-system objects (all or nothing). Never for work done on behalf of code.
    public func withRows<T>(_ body: (any StoreTransaction) throws -> T) throws(FSError) -> T {
        try store { try body(transaction) }
    }

    /// Store calls, with backend failures turned into `FSError.storage`.
    func store<T>(_ body: () throws -> T) throws(FSError) -> T {
        do {
            return try body()
        } catch let error as FSError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    /// The root directory (cached: its id and label never change).
    public var root: Entry {
        get throws(FSError) {
            if let root = cache.root { return root }
            guard let text = try store({ try transaction.metadata(MetadataKey.root) }), let id = ObjectID(text) else {
                throw .notInitialized
            }
            let record = try record(id)
            let root = Entry(kind: .directory, id: id, label: try record.label.map { (text) throws(FSError) in try cache.label(text) })
            cache.root = root
            return root
        }
    }

    /// Checks an entry's kind.
    func expect(_ entry: Entry, _ kind: ObjectKind) throws(FSError) {
        guard entry.kind == kind else { throw .wrongKind(expected: kind, actual: entry.kind) }
    }

    func record(_ id: ObjectID, forUpdate: Bool = false) throws(FSError) -> ObjectRecord {
        let record = try store { forUpdate ? try transaction.objectForUpdate(id) : try transaction.object(id) }
        guard let record else { throw .notFound("object #\(id)") }
        return record
    }

    /// The row of a stored object, or of a facet's directory; `nil` for a facet never written to.
    func record(of entry: Entry, forUpdate: Bool = false) throws(FSError) -> ObjectRecord? {
        switch entry.target {
        case let .object(id):
            return try record(id, forUpdate: forUpdate)
        case let .facet(faceted, label):
            guard let facet = try store({ try transaction.facet(faceted: faceted, label: label.description) }) else {
                return nil
            }
            return try record(facet.directory, forUpdate: forUpdate)
        }
    }

    /// The id of a directory entry's directory; `nil` for a facet never written to.
    func directoryID(_ entry: Entry) throws(FSError) -> ObjectID? {
        switch entry.target {
        case let .object(id):
            return id
        case let .facet(faceted, label):
            return try store { try transaction.facet(faceted: faceted, label: label.description)?.directory }
        }
    }

    /// The directory holding a facet, creating it (with the creator's quota) if needed.
    func materializeFacet(faceted: ObjectID, label: Label, creator: Privilege) throws(FSError) -> ObjectID {
        // Lock the faceted directory so that two creators cannot race on one label.
        _ = try record(faceted, forUpdate: true)
        let text = label.description
        if let existing = try store({ try transaction.facet(faceted: faceted, label: text) }) {
            return existing.directory
        }
        if !creator.component.isFalse {
            let created = try store { try transaction.facetCount(faceted: faceted, creator: creator.description) }
            guard created < limits.maxFacetsPerCreator else {
                throw .limitExceeded("facets created by \(creator) in one faceted directory", limit: limits.maxFacetsPerCreator)
            }
        }
        return try store {
            let directory = try transaction.insertObject(kind: ObjectKind.directory.rawValue, label: text, data: [])
            guard try transaction.insertFacet(FacetRecord(faceted: faceted, label: text, directory: directory, creator: creator.description))
            else { throw StoreError("facet \(text) appeared during its creation") }
            return directory
        }
    }

    /// The stored id of `entry`, creating the facet it names if needed.
    func materialize(_ entry: Entry, creator: Privilege) throws(FSError) -> ObjectID {
        switch entry.target {
        case let .object(id):
            return id
        case let .facet(faceted, label):
            return try materializeFacet(faceted: faceted, label: label, creator: creator)
        }
    }

    /// An entry for a stored directory entry row.
    func entry(_ record: EntryRecord) throws(FSError) -> Entry {
        guard let kind = ObjectKind(rawValue: record.kind) else { throw .corrupt("unknown object kind \(record.kind)") }
        let label = try record.label.map { (text) throws(FSError) in try cache.label(text) }
        return Entry(kind: kind, id: record.target, label: label)
    }

    func decode<T: Decodable>(_ type: T.Type, _ record: ObjectRecord) throws(FSError) -> T {
        let content = try content(of: record)
        do {
            return try JSONDecoder().decode(type, from: Data(content))
        } catch {
            throw .corrupt("object #\(record.id): \(error)")
        }
    }

    func encode(_ value: some Encodable) throws(FSError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return [UInt8](try encoder.encode(value))
        } catch {
            throw .corrupt("cannot encode \(type(of: value)): \(error)")
        }
    }
}

/// Keys of the store's metadata table used by the file system.
enum MetadataKey {
    static let root = "fs.root"
}
