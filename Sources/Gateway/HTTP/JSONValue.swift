import Foundation
import Hummingbird
import JSONValues
import NIOCore

extension JSONValue {
    /// A request body's JSON; malformed input is a 400, never a crash.
    init(parsing bytes: some Collection<UInt8>) throws(APIError) {
        guard !bytes.isEmpty else { throw .badRequest("the body is empty; it must be a JSON object") }
        do {
            self = try JSONValue(decoding: bytes)
        } catch {
            throw .badRequest("the body is not valid JSON")
        }
    }

    var bytes: [UInt8] { Array(text.utf8) }

    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes + [0x0A])))
    }
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

    /// An integer field; its range, where the file system owns it (a function's settings),
    /// is checked there.
    func optionalInt(_ key: String, in range: ClosedRange<Int> = -(1 << 53)...(1 << 53)) throws(APIError) -> Int? {
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
