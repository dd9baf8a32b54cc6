import Testing

/// The HTTP API against a real server on 127.0.0.1 (``GatewayHarness``), a suite per
/// folder of Sources/Gateway: accounts and tokens (`Auth/`), the file system,
/// invocations and operations (`HTTP/`), administration and the audit log (`Audit/`).
/// One test at a time: some wait out token lifetimes and rate limits.
@Suite(.serialized) enum GatewayTests {
    typealias H = GatewayHarness
}
