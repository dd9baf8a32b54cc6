import Labels

/// Where security-relevant actions are reported: the gateway's audit log. The file
/// system and the monitor report; they do not wait for the write.
public protocol AuditSink: Sendable {
    func record(_ event: AuditEvent)
}

/// One audited action: who, what, on which object, with which labels.
public struct AuditEvent: Sendable, Hashable {
    /// The acting privilege or principal, as text (`T` for anonymous).
    public var principal: String
    /// e.g. `login`, `gate_create`, `declassify`.
    public var action: String
    /// A path, an account name or an invocation id.
    public var object: String
    /// The labels involved, by role (e.g. `before`, `after`).
    public var labels: [String: String]
    public var detail: String

    public init(principal: String, action: String, object: String, labels: [String: String] = [:], detail: String = "") {
        self.principal = principal
        self.action = action
        self.object = object
        self.labels = labels
        self.detail = detail
    }
}
