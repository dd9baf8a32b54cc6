import Labels

/// An external HTTP endpoint, stored as a labeled object.
///
/// Calling it sends data out of the system, so the caller's label after
/// downgrading with ``privilege`` must be public; afterwards the caller is tainted
/// with ``taint``.
public struct Service: Sendable, Hashable, Codable {
    /// Used to declassify the request (not kept afterwards).
    public var privilege: Privilege
    /// What a caller's privilege must imply.
    public var invokerIntegrityClearance: Component
    /// The label of what comes back.
    public var taint: Label
    /// `http://` or `https://` URL; `{name}` placeholders are filled from call parameters.
    public var url: String
    public var verb: HTTPVerb
    /// Sent with every request; callers cannot add any.
    public var headers: [String: String]

    public init(
        privilege: Privilege, invokerIntegrityClearance: Component = .true, taint: Label, url: String,
        verb: HTTPVerb = .get, headers: [String: String] = [:]
    ) {
        self.privilege = privilege
        self.invokerIntegrityClearance = invokerIntegrityClearance
        self.taint = taint
        self.url = url
        self.verb = verb
        self.headers = headers
    }
}

/// The HTTP methods a service may use (the original's `HttpVerb` numbering).
public enum HTTPVerb: String, Sendable, Hashable, Codable, CaseIterable {
    case head = "HEAD"
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
}
