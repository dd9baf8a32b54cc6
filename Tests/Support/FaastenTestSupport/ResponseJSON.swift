import JSONValues
import Testing

/// A response body that must be a JSON object, or a recorded issue (and a thrown
/// `CancellationError`, which ends the test without a second report).
public func jsonObject(_ body: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: JSONValue] {
    guard case let .object(object)? = try? JSONValue(decoding: body) else {
        Issue.record("not a JSON object: \(String(decoding: body, as: UTF8.self))", sourceLocation: sourceLocation)
        throw CancellationError()
    }
    return object
}
