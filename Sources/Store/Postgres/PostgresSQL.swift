import NIOCore
import PostgresNIO

/// The SQL seam on PostgreSQL: statements written for both backends use `?` (or `?N`
/// to name a parameter again) where PostgreSQL wants `$N`, and values are bound and
/// read back as ``SQLValue``s.
enum PostgresSQL {
    /// `sql` with its placeholders numbered, and `arguments` bound. A `?` inside a
    /// string literal would be taken for a placeholder: shared SQL has none.
    static func query(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQuery {
        var text = ""
        text.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var characters = sql.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            guard character == "?" else {
                text.append(character)
                continue
            }
            var digits = ""
            while let digit = pending, digit.isASCII, digit.isNumber {
                digits.append(digit)
                pending = characters.next()
            }
            if digits.isEmpty {
                text += "$\(next)"
                next += 1
            } else {
                text += "$" + digits
            }
        }
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: binds.appendNull()
            case let .integer(value): binds.append(value)
            case let .real(value): binds.append(value)
            case let .text(value): binds.append(value)
            case let .blob(value): binds.append(ByteBuffer(bytes: value))
            case let .boolean(value): binds.append(value)
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }

    /// A row's cells as values, by their PostgreSQL types.
    static func row(_ row: PostgresRow) throws -> SQLRow {
        SQLRow(try row.map(value))
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2: return .integer(Int64(try cell.decode(Int16.self)))
        case .int4: return .integer(Int64(try cell.decode(Int32.self)))
        case .int8: return .integer(try cell.decode(Int64.self))
        case .float4: return .real(Double(try cell.decode(Float.self)))
        case .float8: return .real(try cell.decode(Double.self))
        case .bool: return .boolean(try cell.decode(Bool.self))
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }
}
