import Foundation

/// The tables one module owns, as versioned migrations in both dialects. The module
/// that owns the rows declares its schema beside the code that reads and writes them,
/// and prepares it on the store before first use (``Store/prepare(_:)``):
///
/// ```swift
/// static let schema = Schema(component: "invocations", migrations: [
///     Migration(version: 1, name: "invocation records",
///               sqlite: ["CREATE TABLE invocations (…)"], postgres: ["CREATE TABLE invocations (…)"]),
/// ])
/// try store.prepare(InvocationRecords.schema)
/// ```
///
/// A migration is applied once, in order, inside a transaction, and the component's
/// version recorded in `schema_versions`. Never edit an applied migration: append one.
public struct Schema: Sendable, Hashable {
    /// The component's name in `schema_versions`.
    public let component: String
    public let migrations: [Migration]
    /// For databases made before components had versions of their own (one list,
    /// `schema_migrations`): the component's version when that list had reached a
    /// version. A database at legacy version `v` is at the largest mapped version whose
    /// legacy version is at most `v`.
    public let legacyVersions: [Int: Int]

    public init(component: String, migrations: [Migration], legacyVersions: [Int: Int] = [:]) {
        self.component = component
        self.migrations = migrations
        self.legacyVersions = legacyVersions
    }

    /// The newest version this build knows.
    public var latest: Int { migrations.last?.version ?? 0 }

    /// The component's version in a database whose legacy list reached `legacy`.
    func version(atLegacy legacy: Int) -> Int {
        legacyVersions.filter { $0.key <= legacy }.map(\.value).max() ?? 0
    }
}

/// One step of a schema, in both dialects.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    /// `nil`: the component exists on PostgreSQL only (the cluster's queue).
    public let sqlite: [String]?
    public let postgres: [String]

    public init(version: Int, name: String, sqlite: [String]?, postgres: [String]) {
        self.version = version
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
    }

    func statements(_ dialect: SQLDialect) -> [String]? {
        switch dialect {
        case .sqlite: return sqlite
        case .postgres: return postgres
        }
    }
}

/// The bookkeeping both stores share: which schemas were prepared in this process.
final class PreparedSchemas: @unchecked Sendable {
    private let lock = NSLock()
    private var prepared: Set<String> = []

    func contains(_ schema: Schema) -> Bool { lock.withLock { prepared.contains(schema.component) } }
    func insert(_ schema: Schema) { _ = lock.withLock { prepared.insert(schema.component) } }

    /// The migrations of `schema` to apply to a database at `applied` (`nil`: the
    /// component was never recorded, so its version comes from `legacy`), or the reason
    /// the database cannot be used.
    static func pending(_ schema: Schema, applied: Int?, legacy: Int, dialect: SQLDialect) throws -> (from: Int, [Migration]) {
        let current = applied ?? schema.version(atLegacy: legacy)
        guard current <= schema.latest else {
            throw StoreError("the database's \(schema.component) schema is at version \(current), newer than this build's \(schema.latest)")
        }
        let pending = schema.migrations.filter { $0.version > current }
        if let unsupported = pending.first(where: { $0.statements(dialect) == nil }) {
            throw StoreError("\(schema.component) (\(unsupported.name)) needs PostgreSQL, not \(dialect.rawValue)")
        }
        return (current, pending)
    }
}
