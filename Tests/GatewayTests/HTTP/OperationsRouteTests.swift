import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

@testable import Gateway

extension GatewayTests {
    /// Health, metrics, the original's aliases, draining, and openapi.yaml against the
    /// routes the server has.
    @Suite("operations routes and the API specification")
    struct OperationsRouteTests {
        @Test func operationsEndpointsAndAliases() async throws {
            try await H.with { h in
                let health = try await h.request(.GET, "/healthz").json
                #expect(health["status"]?.string == "ok" && health["records"]?.string == "ok")
                #expect(try await h.request(.GET, "/faasten/ping").text == "Pong.")
                let alice = try await h.user("alice")
                #expect(try await h.request(.GET, "/me", token: alice).json["login"]?.string == "alice")
                let metrics = try await h.request(.GET, "/metrics")
                #expect(metrics.status == 200 && metrics.text.contains("faasten_pool_memory_used_mb"))
                h.gateway.drain()
                #expect(try await h.request(.POST, "/v1/invoke/\(H.encode("~:x"))", token: alice, body: []).status == 503)
            }
        }

        /// openapi.yaml names exactly the routes the server has.
        @Test func theOpenAPIFileAgreesWithTheServer() async throws {
            try await H.with { h in
                let text = try String(contentsOfFile: TestSandboxes.repository + "/openapi.yaml", encoding: .utf8)
                var specified: Set<String> = []
                var path: String?
                var inPaths = false
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("paths:") { inPaths = true; continue }
                    if inPaths, let first = line.first, first != " ", first != "#" { inPaths = false }
                    guard inPaths else { continue }
                    if line.hasPrefix("  /"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()); continue }
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    if line.hasPrefix("    "), !line.hasPrefix("     "), let path,
                        ["get:", "post:", "put:", "patch:", "delete:"].contains(trimmed)
                    {
                        specified.insert("\(trimmed.dropLast().uppercased()) \(path)")
                    }
                }
                let served = Set(h.gateway.routes)
                #expect(specified.subtracting(served).isEmpty, "specified, not served: \(specified.subtracting(served).sorted())")
                #expect(served.subtracting(specified).isEmpty, "served, not specified: \(served.subtracting(specified).sorted())")
            }
        }
    }
}
