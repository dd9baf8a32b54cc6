import JSONValues

/// Why a command failed, what the user can do next, and the exit status it means.
///
/// Exit status 1 is reserved for a refusal by a flow rule (HTTP 403 `refused`), so that
/// scripts can tell "not allowed" from "broken"; everything else is 2.
public struct FstnError: Error, Sendable, CustomStringConvertible {
    /// The reason, printed after `error: `.
    public var reason: String
    /// What to do next, printed on the following line.
    public var next: String?
    /// Further lines worth showing (a refusal's rule and labels).
    public var details: [String]
    /// The process exit status: 1 refused, 2 anything else.
    public var exitCode: Int32
    /// The server's error object, printed as is under `--json`.
    public var serverError: JSONValue?
    /// The HTTP status, when the server answered.
    public var status: Int?

    public init(
        _ reason: String, next: String? = nil, details: [String] = [], exitCode: Int32 = 2, serverError: JSONValue? = nil,
        status: Int? = nil
    ) {
        self.reason = reason
        self.next = next
        self.details = details
        self.exitCode = exitCode
        self.serverError = serverError
        self.status = status
    }

    public var description: String { reason }

    /// The server's `error` code (`refused`, `conflict`, …), if the server sent one.
    public var code: String? { serverError?["error"]?.string }

    /// The lines printed on stderr: `error: …`, the details, then what to do next.
    public var lines: [String] {
        ["error: \(reason)"] + details.map { "  \($0)" } + (next.map { ["\($0)"] } ?? [])
    }

    /// The object printed on stdout under `--json`: the server's error, or one of the same shape.
    public var json: JSONValue {
        var fields: [String: JSONValue] = [:]
        if case let .object(server)? = serverError { fields = server }
        if fields["error"] == nil { fields["error"] = .string(exitCode == 1 ? "refused" : "client_error") }
        if fields["reason"] == nil { fields["reason"] = .string(reason) }
        if let next { fields["next"] = .string(next) }
        return .object(fields)
    }
}
