/// Where a store lives: a data directory (SQLite and local blobs) or a PostgreSQL URL.
public enum StoreLocation: Sendable, CustomStringConvertible {
    case directory(String)
    case postgres(PostgresLocation)

    /// `postgres://…` or `postgresql://…` is PostgreSQL; anything else is a data directory.
    public init(_ text: String) throws {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url: text))
        } else {
            guard !text.isEmpty else { throw StoreError("empty data directory path") }
            self = .directory(text)
        }
    }

    /// Opens (and migrates) the store.
    public func open() async throws -> any Store {
        switch self {
        case let .directory(path): return try SQLiteStore(directory: path)
        case let .postgres(location): return try await PostgresStore(location: location)
        }
    }

    public var description: String {
        switch self {
        case let .directory(path): return path
        case let .postgres(location): return location.description
        }
    }
}
