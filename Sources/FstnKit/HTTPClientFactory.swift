import AsyncHTTPClient
import NIOCore

/// The HTTP client `fstn` uses: one per command run, shut down at its end.
public enum HTTPClientFactory {
    /// How long connecting may take; a refused connection is reported at once.
    public static let connectTimeout = TimeAmount.seconds(10)

    /// A client that fails fast when the server is down (no reconnect backoff: a person is
    /// waiting and the next step is to start the server) and never follows redirects (a
    /// bearer token must not be sent on to another address without the user choosing it).
    public static func make() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: connectTimeout), decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}
