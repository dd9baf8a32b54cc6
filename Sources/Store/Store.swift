/// Persistent rows of the labeled file system, behind one protocol with two backends.
///
/// A store knows objects, directory entries and facets as rows, and gives the modules
/// that keep rows of their own (invocation records, accounts, the cluster's queue) a
/// small SQL seam and the migration machinery (``Schema``); it knows nothing of
/// labels beyond their canonical text, and makes no flow checks: those belong to the
/// `FileSystem` module. Every operation runs in a transaction:
///
/// ```swift
/// let id = try await store.transaction(.write) { tx in
///     try tx.insertObject(kind: 1, label: "alice,alice", data: Array("hi".utf8))
/// }
/// ```
///
/// Transaction bodies are synchronous and short. SQLite runs them on the calling
/// thread (a local transaction takes microseconds; a hop to another thread would
/// cost more than the work); PostgreSQL runs them on a thread pool that may block on
/// the network, never on the caller's executor.
public protocol Store: Sendable {
    /// Runs `body` in one transaction: all its changes are committed together, or
    /// none if it throws. `.read` transactions see one consistent snapshot.
    func transaction<T: Sendable>(
        _ mode: TransactionMode, _ body: @escaping @Sendable (any StoreTransaction) throws -> T
    ) async throws -> T

    /// The same, run on the calling thread, which may block (on SQLite's write lock or
    /// on the network): for threads that serve one sandbox, never an event loop or
    /// the cooperative pool's threads for long.
    func synchronousTransaction<T>(_ mode: TransactionMode, _ body: (any StoreTransaction) throws -> T) throws -> T

    /// Content-addressed blobs kept beside the rows.
    var blobs: any BlobStore { get }

    /// `"sqlite"` or `"postgres"`, for messages and benchmark names.
    var backend: String { get }

    /// Creates or migrates the tables of `schema` (once per process; idempotent, and
    /// safe when several processes prepare at once). The module owning the rows calls
    /// it before first use. Blocking.
    func prepare(_ schema: Schema) throws

    /// Releases connections and threads. The store must not be used afterwards.
    func close() async throws
}

/// Whether a transaction may change rows.
public enum TransactionMode: Sendable {
    case read
    case write
}

/// The row operations of one transaction. Not `Sendable`: it lives inside one body.
public protocol StoreTransaction {
    /// The object with this id, if any.
    func object(_ id: ObjectID) throws -> ObjectRecord?
    /// The object, locked against concurrent writers until the transaction ends.
    func objectForUpdate(_ id: ObjectID) throws -> ObjectRecord?
    /// Creates an object and returns its new id.
    func insertObject(kind: Int, label: String?, data: [UInt8]) throws -> ObjectID
    /// Replaces an object's data and increments its version.
    func updateObjectData(_ id: ObjectID, data: [UInt8]) throws

    /// The entry `name` of `directory`, if any.
    func entry(directory: ObjectID, name: String) throws -> EntryRecord?
    /// All entries of `directory`, ordered by the UTF-8 bytes of their names.
    func entries(directory: ObjectID) throws -> [EntryRecord]
    /// Adds an entry; `false` (and no change) if the name is taken.
    /// Keeps the directory's `entryCount`.
    func insertEntry(_ entry: EntryRecord) throws -> Bool
    /// Removes an entry; `false` if there was none. Keeps the directory's `entryCount`.
    func deleteEntry(directory: ObjectID, name: String) throws -> Bool

    /// The facet of `faceted` whose canonical label text is `label`, if any.
    func facet(faceted: ObjectID, label: String) throws -> FacetRecord?
    /// All facets of `faceted`, ordered by label text.
    func facets(faceted: ObjectID) throws -> [FacetRecord]
    /// Adds a facet; `false` (and no change) if that label already has one.
    func insertFacet(_ facet: FacetRecord) throws -> Bool
    /// How many facets of `faceted` were created by `creator`.
    func facetCount(faceted: ObjectID, creator: String) throws -> Int

    /// Which SQL this store speaks.
    var dialect: SQLDialect { get }
    /// Rows of a statement written once for both backends: `?` placeholders (`?N` to
    /// name one again), the types of ``SQLValue``. For modules that keep rows of their
    /// own (``Schema``); the file system's rows have the methods above.
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs a statement written once for both backends; returns how many rows changed.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int

    /// A value of the store-wide key/value table (e.g. the root object's id).
    func metadata(_ key: String) throws -> String?
    /// Sets a value of the store-wide key/value table.
    func setMetadata(_ key: String, _ value: String) throws
}

/// A row id of the `objects` table.
public typealias ObjectID = Int64

/// One object: a directory, faceted directory, file, blob entry, gate or service.
public struct ObjectRecord: Sendable, Hashable {
    public let id: ObjectID
    /// The file system's kind number (directory 0, file 1, faceted 2, gate 3, service 4, blob 5).
    public let kind: Int
    /// Canonical label text; `nil` for an unlabeled object (a faceted directory).
    public let label: String?
    /// File bytes, a blob name, or a gate or service description.
    public let data: [UInt8]
    /// Incremented by every ``StoreTransaction/updateObjectData(_:data:)``.
    public let version: Int64
    /// Number of entries, for directories.
    public let entryCount: Int64

    public init(id: ObjectID, kind: Int, label: String?, data: [UInt8], version: Int64, entryCount: Int64) {
        self.id = id
        self.kind = kind
        self.label = label
        self.data = data
        self.version = version
        self.entryCount = entryCount
    }
}

/// A name in a directory, pointing at an object of a known kind.
public struct EntryRecord: Sendable, Hashable {
    public let directory: ObjectID
    public let name: String
    public let target: ObjectID
    /// The target's kind, kept here so that listing needs no join.
    public let kind: Int
    /// The target's label text (objects never change label), so that walking a path
    /// is one lookup per component. `nil` for unlabeled targets.
    public let label: String?

    public init(directory: ObjectID, name: String, target: ObjectID, kind: Int, label: String?) {
        self.directory = directory
        self.name = name
        self.target = target
        self.kind = kind
        self.label = label
    }
}

/// A facet of a faceted directory: the directory that holds data at one label.
public struct FacetRecord: Sendable, Hashable {
    public let faceted: ObjectID
    /// Canonical label text: equal labels have equal text.
    public let label: String
    public let directory: ObjectID
    /// Canonical text of the privilege that created it, for per-creator quotas.
    public let creator: String

    public init(faceted: ObjectID, label: String, directory: ObjectID, creator: String) {
        self.faceted = faceted
        self.label = label
        self.directory = directory
        self.creator = creator
    }
}

/// A storage failure: the backend refused or could not be reached.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
