import Foundation

/// A value bound to a statement or read back from a row, the same on both backends:
/// the small seam through which modules other than the file system keep their own rows
/// (invocation records, accounts, triggers) with SQL written once.
///
/// ```swift
/// try transaction.execute("INSERT INTO sessions (id, account, expires_at) VALUES (?, ?, ?)",
///                         [.text(id), .text(account), .real(expiresAt)])
/// ```
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case boolean(Bool)

    /// An integer column's value, or NULL.
    public static func int(_ value: Int?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
    /// A real column's value, or NULL.
    public static func double(_ value: Double?) -> SQLValue { value.map(SQLValue.real) ?? .null }
    /// A text column's value, or NULL.
    public static func string(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    /// A blob (`BLOB`, `BYTEA`) column's value, or NULL.
    public static func bytes(_ value: [UInt8]?) -> SQLValue { value.map(SQLValue.blob) ?? .null }
    /// A boolean (`INTEGER` 0/1 in SQLite, `BOOLEAN` in PostgreSQL).
    public static func bool(_ value: Bool) -> SQLValue { .boolean(value) }
}

/// One row read back: columns by position, converted with the checks a reader needs
/// (a column of the wrong type is a store error, not a crash).
public struct SQLRow: Sendable {
    public let values: [SQLValue]

    public init(_ values: [SQLValue]) {
        self.values = values
    }

    private func value(_ index: Int) throws -> SQLValue {
        guard values.indices.contains(index) else { throw StoreError("a row has no column \(index)") }
        return values[index]
    }

    public func optionalInt(_ index: Int) throws -> Int? {
        switch try value(index) {
        case .null: return nil
        case let .integer(value): return Int(value)
        case let .boolean(value): return value ? 1 : 0
        case let other: throw StoreError("column \(index) is not an integer: \(other)")
        }
    }

    public func int(_ index: Int) throws -> Int {
        guard let value = try optionalInt(index) else { throw StoreError("column \(index) is NULL") }
        return value
    }

    public func optionalDouble(_ index: Int) throws -> Double? {
        switch try value(index) {
        case .null: return nil
        case let .real(value): return value
        case let .integer(value): return Double(value)
        case let other: throw StoreError("column \(index) is not a number: \(other)")
        }
    }

    public func double(_ index: Int) throws -> Double {
        guard let value = try optionalDouble(index) else { throw StoreError("column \(index) is NULL") }
        return value
    }

    public func optionalString(_ index: Int) throws -> String? {
        switch try value(index) {
        case .null: return nil
        case let .text(value): return value
        case let other: throw StoreError("column \(index) is not text: \(other)")
        }
    }

    public func string(_ index: Int) throws -> String {
        guard let value = try optionalString(index) else { throw StoreError("column \(index) is NULL") }
        return value
    }

    public func optionalBytes(_ index: Int) throws -> [UInt8]? {
        switch try value(index) {
        case .null: return nil
        case let .blob(value): return value
        case let .text(value): return Array(value.utf8)
        case let other: throw StoreError("column \(index) is not a blob: \(other)")
        }
    }

    public func bool(_ index: Int) throws -> Bool {
        switch try value(index) {
        case let .boolean(value): return value
        case let .integer(value): return value != 0
        case let other: throw StoreError("column \(index) is not a boolean: \(other)")
        }
    }
}

/// Which SQL a store speaks, for the rare statement the dialects spell differently
/// (migrations' column types, mostly).
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}
