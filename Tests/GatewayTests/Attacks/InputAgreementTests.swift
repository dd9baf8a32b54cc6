import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

extension AttackTests {
    /// Small disagreements between the docs and the server, fixed: paths must start with a
    /// name, an unsigned webhook is 401, sizes take one unit, logout checks its body's type.
    @Suite("attack: input the docs promise to refuse", .serialized)
    struct InputAgreementTests {
        typealias S = ServedPlatform

        @Test func aPathOfSeparatorsIsNotTheRoot() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                for raw in ["%3A", "%3A%3A%3A", ":", "::", "%3Ahome", "home%3A"] {
                    for token in [alice, nil] {
                        let reply = try await s.request(.GET, "/v1/fs/" + raw, token: token)
                        #expect(reply.status == 400, "\(raw): \(reply.status) \(reply.text)")
                        #expect((reply.json["reason"]?.string)?.contains("a path") == true, "\(raw): \(reply.text)")
                        #expect(reply.json["entries"] == nil)
                    }
                    guard !raw.hasPrefix("home") else { continue }
                    try await s.expectNoEffect("create at \(raw)x", status: 400) {
                        try await s.request(.POST, "/v1/fs/" + raw + "x", token: alice, json: ["kind": "directory"])
                    }
                }
                #expect(try await s.request(.GET, "/v1/fs/home", token: alice).status == 200)
            }
        }

        @Test func anUnsignedGenericWebhookIs401() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                try await s.deploy("hookecho", at: "~:hook", token: alice, label: "T,alice", ["privilege": "alice"])
                let trigger = try await s.request(
                    .POST, "/v1/triggers", token: alice,
                    json: ["name": "g", "source": "generic", "gate": "~:hook", "privilege": "alice", "secret": "a-shared-secret-of-ours"])
                let id = try #require(trigger.json["id"]?.string, "\(trigger.text)")
                for headers in [[:], ["X-Faasten-Signature": "sha256=00"], ["X-Faasten-Timestamp": "1"], ["X-Faasten-Signature": "x", "X-Faasten-Timestamp": "soon"]] {
                    let reply = try await s.expectNoEffect("webhook with \(headers)", status: 401) {
                        try await s.request(.POST, "/v1/hooks/\(id)", body: Array("{}".utf8), headers: headers)
                    }
                    #expect(reply.headers.first(name: "WWW-Authenticate") != nil)
                }
            }
        }

        @Test func blobSizesTakeOneUnitWithASuffix() async throws {
            try await S.with(["--max-blob", "64KiB"]) { s in
                let alice = try await s.user("alice")
                #expect(try await s.request(.PUT, S.blobs("~:small") + "?label=alice,alice", token: alice, body: [UInt8](repeating: 1, count: 64 << 10)).status == 201)
                let reply = try await s.expectNoEffect("a blob over 64 KiB", status: 413) {
                    try await s.request(.PUT, S.blobs("~:large") + "?label=alice,alice", token: alice, body: [UInt8](repeating: 2, count: (64 << 10) + 1))
                }
                #expect((reply.json["reason"]?.string)?.contains("65536 bytes") == true, "\(reply.text)")
            }
            for bad in ["64XB", "-1", "0", "MiB", "1.5GiB"] {
                let directory = try TemporaryDirectory()
                let started = try BuiltProducts.run("faasten", ["serve", "--data", directory.path, "--listen", "127.0.0.1:0", "--max-blob", bad])
                #expect(started.status != 0 && started.stderr.contains("--max-blob"), "\(bad): \(started.stderr)")
            }
        }
    }
}
