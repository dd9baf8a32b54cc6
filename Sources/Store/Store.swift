/// Persistent rows of the labeled file system, behind one protocol with two backends.
///
/// A store knows objects, directory entries and facets as rows; it knows nothing of
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

    /// Inserts or replaces an invocation record.
    func saveInvocation(_ record: InvocationRow) throws
    /// The invocation record with this id, if any.
    func invocation(_ id: String) throws -> InvocationRow?

    /// The account named `name`, if any.
    func account(_ name: String) throws -> AccountRow?
    /// Every account, by name.
    func accounts() throws -> [AccountRow]
    /// Inserts or replaces an account.
    func saveAccount(_ account: AccountRow) throws
    /// Removes an account and its sessions; `false` if there was none.
    func deleteAccount(_ name: String) throws -> Bool

    /// Adds a refresh session.
    func insertSession(_ session: SessionRow) throws
    /// Removes and returns a session (a refresh token is used once).
    func takeSession(_ id: String) throws -> SessionRow?
    /// Removes every session of an account.
    func deleteSessions(account: String) throws

    /// Marks an access token as revoked until it would have expired anyway (and
    /// forgets revocations that have expired).
    func revokeToken(_ id: String, expiresAt: Double, now: Double) throws
    /// Whether an access token was revoked.
    func isTokenRevoked(_ id: String) throws -> Bool

    /// Appends audit rows.
    func appendAudit(_ rows: [AuditRow]) throws
    /// Audit rows matching `query`, newest first.
    func audit(_ query: AuditQuery) throws -> [AuditRow]

    /// Adds a trigger; `false` if its owner already has one with that name.
    func insertTrigger(_ trigger: TriggerRow) throws -> Bool
    func trigger(_ id: String) throws -> TriggerRow?
    /// An owner's triggers, by name.
    func triggers(owner: String) throws -> [TriggerRow]
    /// Schedules whose next tick is at or before `time`.
    func dueTriggers(at time: Double) throws -> [TriggerRow]
    /// Moves a schedule's next tick from `expected` to `next`; `false` (and no change) if
    /// another process moved it first: the tick is someone else's.
    func claimTick(_ id: String, expected: Double, next: Double) throws -> Bool
    /// Removes a trigger and its deliveries; `false` if there was none.
    func deleteTrigger(_ id: String) throws -> Bool

    /// Records a delivery; `false` (and no change) if this delivery id was seen before.
    func insertDelivery(_ delivery: DeliveryRow) throws -> Bool
    func delivery(trigger: String, delivery: String) throws -> DeliveryRow?
    func updateDelivery(_ delivery: DeliveryRow) throws
    /// Forgets a delivery (one that could not be queued, so that a redelivery runs).
    func deleteDelivery(trigger: String, delivery: String) throws
    /// A trigger's deliveries, newest first.
    func deliveries(trigger: String, limit: Int) throws -> [DeliveryRow]

    /// The token signing keys gateways share (cluster mode), by name: `(name, PEM)`.
    func signingKeys() throws -> [(name: String, pem: String)]
    /// Adds a signing key.
    func insertSigningKey(name: String, pem: String) throws
    /// Removes a signing key.
    func deleteSigningKey(_ name: String) throws

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

/// One invocation as recorded: what was asked, how it went, what it answered.
/// Times are seconds since 1970.
public struct InvocationRow: Sendable, Hashable {
    public var id: String
    /// The direct gate that ran, once resolved.
    public var gate: ObjectID?
    /// What was invoked, as asked (a path, or a description for chained calls).
    public var target: String
    /// The invocation that made this one, for chained calls.
    public var parent: String?
    /// The invoker's privilege (component text).
    public var invoker: String
    public var startLabel: String
    /// `queued`, `running`, `completed` or `failed`.
    public var status: String
    public var submittedAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var responseStatus: Int?
    public var result: [UInt8]?
    /// The label the result carries (after the gate's declassification).
    public var resultLabel: String?
    /// Why it failed: a code and a reason.
    public var error: String?
    /// The function's stdout and stderr, labeled with the invocation's final label.
    public var logs: [UInt8]?
    public var logLabel: String?
    /// The cluster worker that ran it (`nil` in the embedded mode).
    public var worker: String?
    /// How many times a cluster worker claimed it (a worker lost mid-run means a retry).
    public var attempts: Int

    public init(
        id: String, gate: ObjectID? = nil, target: String, parent: String? = nil, invoker: String, startLabel: String,
        status: String, submittedAt: Double, startedAt: Double? = nil, finishedAt: Double? = nil, responseStatus: Int? = nil,
        result: [UInt8]? = nil, resultLabel: String? = nil, error: String? = nil, logs: [UInt8]? = nil, logLabel: String? = nil,
        worker: String? = nil, attempts: Int = 0
    ) {
        self.id = id
        self.gate = gate
        self.target = target
        self.parent = parent
        self.invoker = invoker
        self.startLabel = startLabel
        self.status = status
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.responseStatus = responseStatus
        self.result = result
        self.resultLabel = resultLabel
        self.error = error
        self.logs = logs
        self.logLabel = logLabel
        self.worker = worker
        self.attempts = attempts
    }
}

/// A storage failure: the backend refused or could not be reached.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
