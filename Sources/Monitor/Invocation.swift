import FileSystem
import Labels
import Store

/// One request for a function, as the monitor hands it to the guest.
public struct GuestRequest: Sendable {
    public var id: String
    public var payload: [UInt8]
    /// Named request blobs; the guest receives a readable blob handle for each.
    public var blobs: [String: ExistingBlob]
    public var headers: [String: String]
    /// The invoker's privilege (shown to the function, not owned by it).
    public var invoker: Privilege

    public init(
        id: String, payload: [UInt8], blobs: [String: ExistingBlob] = [:], headers: [String: String] = [:],
        invoker: Privilege = .none
    ) {
        self.id = id
        self.payload = payload
        self.blobs = blobs
        self.headers = headers
        self.invoker = invoker
    }
}

/// What the function answered.
public struct FunctionResponse: Sendable, Hashable {
    public var body: [UInt8]
    public var status: Int
    public var headers: [String: String]

    public init(body: [UInt8], status: Int = 200, headers: [String: String] = [:]) {
        self.body = body
        self.status = status
        self.headers = headers
    }
}

/// How an invocation ended, and the label its context ended at.
public struct GuestOutcome: Sendable {
    public enum Status: Sendable {
        case completed(FunctionResponse)
        case failed(InvocationFailure)
    }

    public let status: Status
    /// The invocation's security context at the end: its label is what the result
    /// (and any state the sandbox kept) is tainted with.
    public let context: SecurityContext

    public init(status: Status, context: SecurityContext) {
        self.status = status
        self.context = context
    }

    /// Whether the sandbox can serve another invocation.
    public var sandboxReusable: Bool {
        if case .completed = status { return true }
        return false
    }
}

/// Why an invocation did not complete.
public enum InvocationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// No response before the deadline.
    case timeout
    /// The guest closed the channel (it exited or crashed).
    case guestExited(String)
    /// The guest broke the protocol; the channel was closed.
    case protocolViolation(String)
    case responseTooLarge(bytes: Int, limit: Int)
    /// The sandbox could not be set up.
    case sandbox(String)
    /// The kernel killed the function for exceeding its memory limit.
    case memoryLimit
    /// A failure another process recorded (a cluster worker), as its code and reason.
    case reported(code: String, reason: String)

    /// A short machine-readable name: `timeout`, `exited`, `protocol`, `response-too-large`,
    /// `sandbox`, `memory-limit`.
    public var code: String {
        switch self {
        case .timeout: return "timeout"
        case .guestExited: return "exited"
        case .protocolViolation: return "protocol"
        case .responseTooLarge: return "response-too-large"
        case .sandbox: return "sandbox"
        case .memoryLimit: return "memory-limit"
        case let .reported(code, _): return code
        }
    }

    public var description: String {
        switch self {
        case .timeout: return "timeout: no response before the deadline"
        case let .guestExited(reason): return "the function exited without responding (\(reason))"
        case let .protocolViolation(reason): return "protocol violation: \(reason)"
        case let .responseTooLarge(bytes, limit): return "the response of \(bytes) bytes exceeds the limit of \(limit)"
        case let .sandbox(reason): return "sandbox failure: \(reason)"
        case .memoryLimit: return "the function was killed at its memory limit"
        case let .reported(_, reason): return reason
        }
    }
}
