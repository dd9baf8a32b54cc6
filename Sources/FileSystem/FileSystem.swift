import Foundation
import Keys
import Labels
import Store

/// The labeled file system: every object Faasten keeps, and every operation on it
/// with its information-flow check.
///
/// Operations take the caller's ``SecurityContext`` `inout`: reads raise its label,
/// writes are checked against it. Each operation is one store transaction; a refused
/// operation changes nothing but keeps the taint it took before the refusal.
///
/// ```swift
/// let fs = FileSystem(store: try SQLiteStore(directory: dataDir))
/// var context = try SecurityContext(privilege: Privilege(parsing: "alice"))
/// let photos = try await fs.resolve(try FSPath(parsing: "~:photos"), &context)
/// let names = try await fs.list(photos, &context)
/// ```
public struct FileSystem: Sendable {
    public let store: any Store
    public let limits: FileSystemLimits
    /// Seals the content of files, gates, services and blob entries at rest, bound to
    /// their object (see ``FileSystemSession``'s sealing); `nil`: stored in clear (tests
    /// and benchmarks; `faasten` always seals).
    public let keys: KeyRing?
    /// The blobs objects name: sealed and named by keyed digests with ``keys``
    /// (``SealedBlobStore``), else the store's own. Every blob is read and written
    /// through this, never through `store.blobs`.
    public let blobs: any BlobStore
    let cache: FileSystemCache

    public init(store: any Store, limits: FileSystemLimits = .default, keys: KeyRing? = nil) {
        self.store = store
        self.limits = limits
        self.keys = keys
        blobs = keys.map { SealedBlobStore(raw: store.blobs, keys: $0) } ?? store.blobs
        cache = FileSystemCache()
    }

    /// Runs `body` as one transaction. The session's operations apply every rule; the
    /// context is updated whether the body succeeded or was refused (a refusal keeps
    /// the taint it took), and a refused or failed body changes nothing in the store.
    public func transaction<T: Sendable>(
        _ mode: TransactionMode, _ context: inout SecurityContext,
        _ body: @escaping @Sendable (FileSystemSession, inout SecurityContext) throws(FSError) -> T
    ) async throws(FSError) -> T {
        let start = context
        let limits = limits
        let cache = cache
        let keys = keys
        let outcome: Result<(T, SecurityContext), any Error>
        do {
            outcome = .success(try await store.transaction(mode) { transaction in
                try Self.run(body, FileSystemSession(transaction: transaction, limits: limits, cache: cache, keys: keys), start)
            })
        } catch {
            outcome = .failure(error)
        }
        return try Self.settle(outcome, &context)
    }

    /// ``transaction(_:_:_:)`` on the calling thread, which may block: for a thread
    /// that serves one sandbox (the reference monitor), never for the cooperative pool.
    public func synchronously<T>(
        _ mode: TransactionMode, _ context: inout SecurityContext,
        _ body: (FileSystemSession, inout SecurityContext) throws(FSError) -> T
    ) throws(FSError) -> T {
        let start = context
        let outcome: Result<(T, SecurityContext), any Error>
        do {
            outcome = .success(try store.synchronousTransaction(mode) { transaction in
                try Self.run(body, FileSystemSession(transaction: transaction, limits: limits, cache: cache, keys: keys), start)
            })
        } catch {
            outcome = .failure(error)
        }
        return try Self.settle(outcome, &context)
    }

    /// Runs the body on a copy of the context; a refusal becomes an error that rolls
    /// the transaction back and still carries the context.
    private static func run<T>(
        _ body: (FileSystemSession, inout SecurityContext) throws(FSError) -> T, _ session: FileSystemSession,
        _ start: SecurityContext
    ) throws -> (T, SecurityContext) {
        var working = start
        do throws(FSError) {
            return (try body(session, &working), working)
        } catch {
            throw Refusal(error: error, context: working)
        }
    }

    private static func settle<T>(_ outcome: Result<(T, SecurityContext), any Error>, _ context: inout SecurityContext) throws(FSError) -> T {
        switch outcome {
        case let .success((value, after)):
            context = after
            return value
        case let .failure(refusal as Refusal):
            context = refusal.context
            throw refusal.error
        case let .failure(error as FSError):
            throw error
        case let .failure(error):
            throw .storage("\(error)")
        }
    }

    /// Runs `body` as one transaction without a security context: for the system's
    /// own bookkeeping (bootstrap, user homes), never for work done on behalf of code.
    func performAsSystem<T: Sendable>(_ body: @escaping @Sendable (FileSystemSession) throws(FSError) -> T) async throws(FSError) -> T {
        var unused = try SecurityContext(privilege: .root)
        return try await transaction(.write, &unused) { session, _ throws(FSError) in try body(session) }
    }

    struct Refusal: Error {
        let error: FSError
        let context: SecurityContext
    }
}

/// What a file system keeps between transactions: the root entry and parsed labels.
/// Both are immutable facts of the store, so caching them is always safe.
final class FileSystemCache: @unchecked Sendable {
    private let lock = NSLock()
    private var labels: [String: Label] = [:]
    private var rootEntry: Entry?
    private var gates: [StoredBytes: Gate] = [:]
    static let maxLabels = 4096
    static let maxGates = 1024

    func label(_ text: String) throws(FSError) -> Label {
        if let cached = lock.withLock({ labels[text] }) { return cached }
        let parsed: Label
        do {
            parsed = try Label(parsing: text, limits: LabelLimits(maxTextBytes: .max, maxClauses: .max, maxPrincipalsPerClause: .max, maxTokensPerPrincipal: .max, maxTokenBytes: .max))
        } catch {
            throw .corrupt("stored label \(text): \(error)")
        }
        lock.withLock {
            if labels.count >= Self.maxLabels { labels.removeAll(keepingCapacity: true) }
            labels[text] = parsed
        }
        return parsed
    }

    /// A stored gate's decoded description, by its stored bytes: decoding JSON costs
    /// ~25 µs, a third of resolving a gate for an invocation. Keyed by content, so
    /// an updated gate (new bytes) is never answered from an old entry.
    func gate(_ data: [UInt8], decode: () throws(FSError) -> Gate) throws(FSError) -> Gate {
        let key = StoredBytes(data)
        if let cached = lock.withLock({ gates[key] }) { return cached }
        let decoded = try decode()
        lock.withLock {
            if gates.count >= Self.maxGates { gates.removeAll(keepingCapacity: true) }
            gates[key] = decoded
        }
        return decoded
    }

    /// Bytes as a dictionary key hashed in one call: `[UInt8]`'s own hashing feeds the
    /// hasher byte by byte, which was ~2% of resolving a gate.
    struct StoredBytes: Hashable {
        let bytes: [UInt8]

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    var root: Entry? {
        get { lock.withLock { rootEntry } }
        set { lock.withLock { rootEntry = newValue } }
    }
}
