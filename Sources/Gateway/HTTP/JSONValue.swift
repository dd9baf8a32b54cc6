import Foundation
import Hummingbird
import NIOCore

/// A JSON value: what the gateway reads from request bodies and writes to responses.
/// Parsing is strict (UTF-8, one value, no trailing garbage) and never traps.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(parsing bytes: some Collection<UInt8>) throws(APIError) {
        guard !bytes.isEmpty else { throw .badRequest("the body is empty; it must be a JSON object") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw .badRequest("the body is not valid JSON")
        }
        self = Self(any: object)
    }

    private init(any: Any) {
        switch any {
        case let value as String: self = .string(value)
        case let value as Bool where type(of: any) == Bool.self: self = .bool(value)
        case let value as NSNumber:
            // JSONSerialization may give booleans as NSNumber too; their type code is "c".
            if String(cString: value.objCType) == "c" { self = .bool(value.boolValue) } else { self = .number(value.doubleValue) }
        case let value as Int: self = .number(Double(value))
        case let value as Double: self = .number(value)
        case let value as [Any]: self = .array(value.map(JSONValue.init(any:)))
        case let value as [String: Any]: self = .object(value.mapValues(JSONValue.init(any:)))
        default: self = .null
        }
    }

    var foundation: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(value): return value
        case let .number(value):
            if value == value.rounded(), abs(value) < 1e15 { return Int64(value) }
            return value
        case let .string(value): return value
        case let .array(values): return values.map(\.foundation)
        case let .object(values): return values.mapValues(\.foundation)
        }
    }

    var bytes: [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: foundation, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])) ?? Data("null".utf8)
        return [UInt8](data)
    }

    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes + [0x0A])))
    }

    subscript(key: String) -> JSONValue? {
        if case let .object(values) = self { return values[key] }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

/// Typed access to a request body's fields, each error naming the field.
struct JSONFields {
    let values: [String: JSONValue]

    init(_ value: JSONValue) throws(APIError) {
        guard case let .object(values) = value else { throw .badRequest("the body must be a JSON object") }
        self.values = values
    }

    func string(_ key: String) throws(APIError) -> String {
        guard let value = try optionalString(key) else { throw .badRequest("\(key) is required") }
        return value
    }

    func optionalString(_ key: String) throws(APIError) -> String? {
        switch values[key] {
        case nil, .null?: return nil
        case let .string(value)?: return value
        default: throw .badRequest("\(key) must be a string")
        }
    }

    func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        switch values[key] {
        case nil, .null?: return nil
        case let .number(value)?:
            guard value == value.rounded(), value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
                throw .badRequest("\(key) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return Int(value)
        default: throw .badRequest("\(key) must be a number")
        }
    }

    func optionalBool(_ key: String) throws(APIError) -> Bool? {
        switch values[key] {
        case nil, .null?: return nil
        case let .bool(value)?: return value
        default: throw .badRequest("\(key) must be true or false")
        }
    }

    func optionalObject(_ key: String) throws(APIError) -> [String: JSONValue]? {
        switch values[key] {
        case nil, .null?: return nil
        case let .object(value)?: return value
        default: throw .badRequest("\(key) must be an object")
        }
    }
}
