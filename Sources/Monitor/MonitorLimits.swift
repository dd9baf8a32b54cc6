/// Per-invocation limits the monitor enforces, with their defaults.
public struct MonitorLimits: Sendable, Hashable {
    /// Largest frame either way.
    public var maxMessageBytes = 16 << 20
    /// Largest response body.
    public var maxResponseBytes = 8 << 20
    /// Directory-entry handles open at once.
    public var maxDentHandles = 4096
    /// Blob handles (readers and uploads) open at once.
    public var maxBlobHandles = 256
    /// Bytes one blob upload may hold.
    public var maxBlobBytes: Int64 = 1 << 30
    /// Largest `blob_read` answer; the default when the guest asks for 0.
    public var maxBlobRead = 4 << 20
    public var defaultBlobRead = 64 << 10
    /// How long a new sandbox may take to say hello.
    public var handshakeTimeout: Duration = .seconds(10)

    public init() {}

    public static let `default` = MonitorLimits()
}
