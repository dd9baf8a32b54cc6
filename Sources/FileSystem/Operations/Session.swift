import Foundation
import Labels
import Store

/// One transaction's view of the file system: the store rows, resolved into objects.
/// Every operation is a method on a session, written once for both backends.
struct Session {
    let transaction: any StoreTransaction
    let limits: FileSystemLimits
    let cache: FileSystemCache

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

    var rootID: ObjectID {
        get throws(FSError) {
            if let id = cache.rootID { return id }
            guard let text = try store({ try transaction.metadata(MetadataKey.root) }), let id = ObjectID(text) else {
                throw .notInitialized
            }
            cache.rootID = id
            return id
        }
    }

    var root: Entry {
        get throws(FSError) { Entry(kind: .directory, id: try rootID) }
    }

    /// An object as the file system sees it: a stored row, or a facet not stored yet.
    struct Resolved {
        let kind: ObjectKind
        /// `nil` for a facet that has never been written to.
        let record: ObjectRecord?
        /// `nil` only for faceted directories.
        let label: Label?

        var id: ObjectID? { record?.id }

        /// The label of a labeled object.
        var requiredLabel: Label {
            get throws(FSError) {
                guard let label else { throw .corrupt("a \(kind) without a label") }
                return label
            }
        }
    }

    /// Loads what `entry` points at, checking that it is of `expected` kind.
    func resolve(_ entry: Entry, as expected: ObjectKind, forUpdate: Bool = false) throws(FSError) -> Resolved {
        guard entry.kind == expected else { throw .wrongKind(expected: expected, actual: entry.kind) }
        return try resolve(entry, forUpdate: forUpdate)
    }

    func resolve(_ entry: Entry, forUpdate: Bool = false) throws(FSError) -> Resolved {
        switch entry.target {
        case let .object(id):
            let record = try self.record(id, forUpdate: forUpdate)
            guard record.kind == entry.kind.rawValue else {
                throw .corrupt("object #\(id) is a \(record.kind), the entry says \(entry.kind)")
            }
            let label = try record.label.map { (text) throws(FSError) in try cache.label(text) }
            return Resolved(kind: entry.kind, record: record, label: label)
        case let .facet(faceted, label):
            let facet = try store { try transaction.facet(faceted: faceted, label: label.description) }
            let record = try facet.map { (facet) throws(FSError) in try self.record(facet.directory, forUpdate: forUpdate) }
            return Resolved(kind: .directory, record: record, label: label)
        }
    }

    func record(_ id: ObjectID, forUpdate: Bool = false) throws(FSError) -> ObjectRecord {
        let record = try store { forUpdate ? try transaction.objectForUpdate(id) : try transaction.object(id) }
        guard let record else { throw .notFound("object #\(id)") }
        return record
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
            let record = try record(id)
            guard record.kind == entry.kind.rawValue else {
                throw .corrupt("object #\(id) is a \(record.kind), the entry says \(entry.kind)")
            }
            return id
        case let .facet(faceted, label):
            return try materializeFacet(faceted: faceted, label: label, creator: creator)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ record: ObjectRecord) throws(FSError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(record.data))
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
