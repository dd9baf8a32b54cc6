import AsyncHTTPClient
import FaastenTestSupport
import FileSystem
import Foundation
import Gateway
import Hummingbird
import JSONValues
import Logging
import NIOCore
import NIOHTTP1
import Sandbox
import ServiceLifecycle
import Store
import Testing
import Worker

/// A real gateway on an ephemeral loopback port, over an engine with bubblewrap
/// sandboxes and a fresh SQLite store; requests go through AsyncHTTPClient.
struct GatewayHarness {
    let gateway: Gateway
    let base: String
    let keys: String

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body's JSON object; empty if the body is not one.
        var json: [String: JSONValue] {
            guard case let .object(object)? = try? JSONValue(decoding: body) else { return [:] }
            return object
        }
        var endLabel: String? { headers.first(name: "X-Faasten-End-Label") }
    }

    static func with<T>(
        tokenLifetime: Duration = .seconds(3600), loginAttemptsPerName: Int = 10, loginAttemptsPerAddress: Int = 60,
        _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        let sandboxes = try TestSandboxes.get()
        let directory = try TemporaryDirectory()
        return try await withFileSystem(.sqlite) { fileSystem in
            let audit = try AuditLog(store: fileSystem.store)
            var workerConfiguration = EngineConfiguration()
            workerConfiguration.prestartedPerRuntime = 0
            workerConfiguration.audit = audit
            let engine = Engine(
                fileSystem: fileSystem, backend: sandboxes.backend, staging: sandboxes.staging,
                runtimes: try sandboxes.runtimes(), configuration: workerConfiguration)
            let keys = try await SigningKeys(directory: directory.path + "/keys")
            var configuration = GatewayConfiguration()
            configuration.port = 0
            configuration.bcryptCost = 4
            configuration.tokenLifetime = tokenLifetime
            configuration.loginAttemptsPerName = loginAttemptsPerName
            configuration.loginAttemptsPerAddress = loginAttemptsPerAddress
            let gateway = try Gateway(engine: engine, keys: keys, audit: audit, configuration: configuration)
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let services = ServiceGroup(
                services: [gateway.application { port in continuation.yield(port) }], logger: Logger(label: "gateway-tests"))
            let server = Task { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let harness = GatewayHarness(gateway: gateway, base: "http://127.0.0.1:\(port)", keys: directory.path + "/keys")
            func stop() async {
                await services.triggerGracefulShutdown()
                _ = await server.result
                await engine.shutdown()
                await audit.flush()
            }
            do {
                let result = try await body(harness)
                await stop()
                return result
            } catch {
                await stop()
                throw error
            }
        }
    }

    /// Percent-encodes an FS path as one segment.
    static func encode(_ path: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return path.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: Any? = nil, body: [UInt8]? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> Reply {
        try await Self.send(method, base + path, token: token, json: json, body: body, headers: extra)
    }

    /// One request to `url`: a bearer token, a JSON body (or raw bytes) and headers.
    static func send(
        _ method: HTTPMethod, _ url: String, token: String?, json: Any?, body: [UInt8]?, headers extra: [String: String],
        timeout: Int64 = 60
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: [UInt8](try JSONSerialization.data(withJSONObject: json))))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
    }

    /// Registers `name` (password `name`-password) and returns a login token.
    func user(_ name: String) async throws -> String {
        let password = "\(name)-password"
        let registered = try await request(.POST, "/v1/accounts", json: ["name": name, "password": password])
        precondition(registered.status == 201 || registered.status == 409, "register \(name): \(registered.text)")
        return try #require(try await login(name, password).json["token"]?.string)
    }

    func login(_ name: String, _ password: String) async throws -> Reply {
        try await request(.POST, "/v1/login", json: ["name": name, "password": password])
    }

    /// The admin's token (the account is created with a random password).
    func admin() async throws -> String {
        let password = try await gateway.ensureAdmin() ?? ""
        return try #require(try await login("admin", password).json["token"]?.string)
    }

    /// Uploads a fixture function and creates its gate at `gate` (e.g. `~:tool`).
    func deploy(
        _ fixture: String, at gate: String, token: String, privilege: String, label: String, declassify: String? = nil,
        invokerClearance: String? = nil
    ) async throws -> Reply {
        let image = try FunctionImage.pack(directory: TestSandboxes.fixture(fixture))
        let uploaded = try await request(.PUT, "/v1/blobs/\(Self.encode(gate + ".image"))?label=\(label)", token: token, body: image)
        precondition(uploaded.status == 201, "upload: \(uploaded.text)")
        var spec: [String: Any] = ["kind": "gate", "privilege": privilege, "label": label, "image": gate + ".image"]
        if let declassify { spec["declassify"] = declassify }
        if let invokerClearance { spec["invoker_clearance"] = invokerClearance }
        return try await request(.POST, "/v1/fs/\(Self.encode(gate))", token: token, json: spec)
    }
}
