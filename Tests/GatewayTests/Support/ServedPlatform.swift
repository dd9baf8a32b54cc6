import AsyncHTTPClient
import FaastenTestSupport
import Foundation
import JSONValues
import NIOCore
import NIOHTTP1
import Processes
import Sandbox
import Testing

/// A real `faasten serve` (the built executable) on an ephemeral loopback port with a
/// fresh data directory, attacked over HTTP as an outsider would: what the attack tests
/// run against. Stopped by ``stop()``.
final class ServedPlatform: @unchecked Sendable {
    let process: LaunchedProduct
    let url: String
    let directory: TemporaryDirectory
    var data: String { directory.path + "/data" }

    typealias Reply = GatewayHarness.Reply

    private init(process: LaunchedProduct, url: String, directory: TemporaryDirectory) {
        self.process = process
        self.url = url
        self.directory = directory
    }

    /// Starts `faasten serve` with `options` added (e.g. `--max-queued 4`).
    static func start(_ options: [String] = []) throws -> ServedPlatform {
        let directory = try TemporaryDirectory()
        let process = try LaunchedProduct.start(
            "faasten",
            ["serve", "--data", directory.path + "/data", "--listen", "127.0.0.1:0", "--bcrypt-cost", "4", "--log-level", "warning"]
                + options,
            log: directory.path + "/server.log", ready: "faasten listening on ")
        return ServedPlatform(process: process, url: process.readyValue(after: "faasten listening on ") ?? "", directory: directory)
    }

    /// Runs `body` against a new server, stopped afterwards whatever happens.
    static func with<T>(_ options: [String] = [], _ body: (ServedPlatform) async throws -> T) async throws -> T {
        let server = try start(options)
        defer { server.stop() }
        return try await body(server)
    }

    func stop() {
        process.stop()
    }

    // MARK: Requests

    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: Any? = nil, body: [UInt8]? = nil,
        headers extra: [String: String] = [:], timeout: Int64 = 60
    ) async throws -> Reply {
        try await GatewayHarness.send(method, url + path, token: token, json: json, body: body, headers: extra, timeout: timeout)
    }

    /// `/v1/fs/{path}` with the path as one encoded segment.
    static func fs(_ path: String) -> String { "/v1/fs/" + GatewayHarness.encode(path) }
    static func blobs(_ path: String) -> String { "/v1/blobs/" + GatewayHarness.encode(path) }
    static func invoke(_ path: String) -> String { "/v1/invoke/" + GatewayHarness.encode(path) }

    /// Registers `name` (password `name-password`) and returns a login token.
    func user(_ name: String) async throws -> String {
        let password = "\(name)-password"
        let registered = try await request(.POST, "/v1/accounts", json: ["name": name, "password": password])
        try #require(registered.status == 201 || registered.status == 409, "register \(name): \(registered.text)")
        return try await login(name, password)
    }

    func login(_ name: String, _ password: String) async throws -> String {
        let reply = try await request(.POST, "/v1/login", json: ["name": name, "password": password])
        return try #require(reply.json["token"]?.string, "login \(name): \(reply.text)")
    }

    /// The admin's token, from the password the server wrote in its data directory.
    func admin() async throws -> String {
        let password = try String(contentsOfFile: data + "/admin-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return try await login("admin", password)
    }

    /// Uploads a fixture function as `gate.image` and creates the gate with `fields`
    /// (privilege, label, and any of invoker_clearance, declassify, timeout_ms, …).
    @discardableResult
    func deploy(_ fixture: String, at gate: String, token: String, label: String, _ fields: [String: Any]) async throws -> Reply {
        let image = try FunctionImage.pack(directory: TestSandboxes.fixture(fixture))
        let uploaded = try await request(.PUT, Self.blobs(gate + ".image") + "?label=\(label)", token: token, body: image)
        try #require(uploaded.status == 201, "upload: \(uploaded.text)")
        var spec: [String: Any] = ["kind": "gate", "label": label, "image": gate + ".image"]
        spec.merge(fields) { _, new in new }
        return try await request(.POST, Self.fs(gate), token: token, json: spec)
    }

    /// Invokes the toolkit fixture's `steps` at `gate`.
    func steps(_ gate: String, _ steps: [[String: Any]], token: String?, headers: [String: String] = [:], async: Bool = false)
        async throws -> Reply
    {
        let payload = [UInt8](try JSONSerialization.data(withJSONObject: ["steps": steps]))
        return try await request(.POST, Self.invoke(gate) + (async ? "?async=true" : ""), token: token, body: payload, headers: headers)
    }

    /// The invocation record once finished (polled), as its invoker sees it.
    func finished(_ id: String, token: String?, timeout: Double = 60) async throws -> Reply {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let record = try await request(.GET, "/v1/invocations/\(id)", token: token)
            if record.json["state"]?.string == "finished" || Date() > deadline { return record }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: The store

    /// A canonical dump of the store (every table but the audit log, every blob file):
    /// equal dumps mean the store did not change.
    func dump() throws -> String {
        let result = try ChildProcess.run("/usr/bin/python3", [TestSandboxes.repository + "/Tests/Fixtures/scripts/dump-store.py", data])
        guard case .exited(0) = result.status else { throw DumpFailure(description: result.errors) }
        return result.output
    }

    struct DumpFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Expects `attack` to be refused with a 4xx and the store to be byte for byte what it was.
    @discardableResult
    func expectNoEffect(
        _ what: String, status expected: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ attack: () async throws -> Reply
    ) async throws -> Reply {
        // Records of what ran before are written in batches (within 25 ms): let them land.
        try await Task.sleep(for: .milliseconds(60))
        let before = try dump()
        let reply = try await attack()
        let after = try dump()
        #expect((400..<500).contains(reply.status), "\(what): \(reply.status) \(reply.text)", sourceLocation: sourceLocation)
        if let expected { #expect(reply.status == expected, "\(what): \(reply.status) \(reply.text)", sourceLocation: sourceLocation) }
        #expect(reply.json["reason"] != nil, "\(what): no reason in \(reply.text)", sourceLocation: sourceLocation)
        #expect(before == after, "\(what) changed the store:\n\(Self.difference(before, after))", sourceLocation: sourceLocation)
        return reply
    }

    static func difference(_ before: String, _ after: String) -> String {
        let old = Set(before.split(separator: "\n"))
        let new = Set(after.split(separator: "\n"))
        return (old.subtracting(new).map { "- \($0)" } + new.subtracting(old).map { "+ \($0)" }).sorted().prefix(20).joined(separator: "\n")
    }
}
