/// The gateway's settings, with their defaults.
public struct GatewayConfiguration: Sendable {
    /// Where the server listens (loopback by default).
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed at start).
    public var port = 8080
    /// Lifetime of an access token.
    public var tokenLifetime: Duration = .seconds(3600)
    /// Lifetime of a refresh token.
    public var refreshLifetime: Duration = .seconds(30 * 86400)
    /// bcrypt's cost (2^cost rounds); 12 takes about a quarter second.
    public var bcryptCost: UInt8 = 12
    /// The administrator's account and principal.
    public var adminName = "admin"
    /// Login attempts per account name per 5 minutes, and per client address per minute.
    public var loginAttemptsPerName = 10
    public var loginAttemptsPerAddress = 60
    /// Largest JSON body and invocation payload.
    public var maxJSONBytes = 1 << 20
    public var maxPayloadBytes = 8 << 20
    /// Largest blob upload.
    public var maxBlobBytes: Int64 = 1 << 30

    public init() {}
}
