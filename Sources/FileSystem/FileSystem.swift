import Foundation
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
    let cache: FileSystemCache

    public init(store: any Store, limits: FileSystemLimits = .default) {
        self.store = store
        self.limits = limits
        cache = FileSystemCache()
    }

    /// Runs `body` as one transaction on a copy of `context`, then hands back the
    /// copy, whether the body succeeded or was refused.
    func perform<T: Sendable>(
        _ mode: TransactionMode, _ context: inout SecurityContext,
        _ body: @escaping @Sendable (Session, inout SecurityContext) throws(FSError) -> T
    ) async throws(FSError) -> T {
        let start = context
        let limits = limits
        let cache = cache
        do {
            let (value, after) = try await store.transaction(mode) { transaction in
                var working = start
                do throws(FSError) {
                    let value = try body(Session(transaction: transaction, limits: limits, cache: cache), &working)
                    return (value, working)
                } catch {
                    // Rolls the transaction back; the refusal still carries the taint.
                    throw Refusal(error: error, context: working)
                }
            }
            context = after
            return value
        } catch let refusal as Refusal {
            context = refusal.context
            throw refusal.error
        } catch let error as FSError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    /// Runs `body` as one transaction without a security context: for the system's
    /// own bookkeeping (bootstrap, user homes), never for work done on behalf of code.
    func performAsSystem<T: Sendable>(_ body: @escaping @Sendable (Session) throws(FSError) -> T) async throws(FSError) -> T {
        var unused = try SecurityContext(privilege: .root)
        return try await perform(.write, &unused) { session, _ throws(FSError) in try body(session) }
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
    static let maxLabels = 4096

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

    var root: Entry? {
        get { lock.withLock { rootEntry } }
        set { lock.withLock { rootEntry = newValue } }
    }
}
