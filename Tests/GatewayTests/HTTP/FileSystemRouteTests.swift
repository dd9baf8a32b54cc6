import JSONValues
import NIOHTTP1
import Testing

@testable import Gateway

extension GatewayTests {
    /// `/v1/fs` and `/v1/blobs` against a real server: what is allowed and refused, with
    /// the end label; gates and services created and changed.
    @Suite("file system routes")
    struct FileSystemRouteTests {
        @Test func fileSystemAllowedAndRefusedWithTheEndLabel() async throws {
            try await H.with { h in
                let alice = try await h.user("alice")
                let bob = try await h.user("bob")
                let made = try await h.request(.POST, "/v1/fs/\(H.encode("~:notes"))", token: alice, json: ["kind": "directory", "label": "alice,alice"])
                #expect(made.status == 201, "\(made.text)")
                let file = try await h.request(
                    .POST, "/v1/fs/\(H.encode("~:notes:todo"))", token: alice, json: ["kind": "file", "data": "buy milk", "label": "alice,alice"])
                #expect(file.status == 201)
                let read = try await h.request(.GET, "/v1/fs/\(H.encode("home:<alice,alice>:notes:todo"))", token: alice)
                #expect(read.json["data"]?.string == "buy milk")
                #expect(read.endLabel == "alice,T")  // integrity T ∨ alice
                #expect(try await h.request(.PUT, "/v1/fs/\(H.encode("~:notes:todo"))", token: alice, body: Array("eggs".utf8)).status == 200)
                let raw = try await h.request(.GET, "/v1/fs/\(H.encode("~:notes:todo"))?raw=true", token: alice)
                #expect(raw.text == "eggs")

                // bob is shown nothing: his request's clearance is what he may be shown (bob,T),
                // so the first read of alice's data is refused, before anything else happens.
                let refused = try await h.request(.GET, "/v1/fs/\(H.encode("home:<alice,alice>:notes:todo"))", token: bob)
                #expect(refused.status == 403 && refused.json["rule"]?.string == "read rule", "\(refused.text)")
                #expect(refused.endLabel == "T,T")
                #expect(!refused.text.contains("eggs"))
                // ... nor may he write into alice's home.
                let write = try await h.request(.POST, "/v1/fs/\(H.encode("home:<alice,alice>:x"))", token: bob, json: ["kind": "file"])
                #expect(write.status == 403)
                // Anonymous requests act with T.
                #expect(try await h.request(.GET, "/v1/fs/\(H.encode("home:<alice,alice>:notes"))").status == 403)

                // A faceted directory: created without listing; listed up to what the caller may see.
                #expect(try await h.request(.POST, "/v1/fs/\(H.encode("~:box"))", token: alice, json: ["kind": "faceted"]).status == 201)
                _ = try await h.request(
                    .POST, "/v1/fs/\(H.encode("~:box:<alice,alice>:x"))", token: alice, json: ["kind": "file", "label": "alice,alice"])
                let listed = try await h.request(.GET, "/v1/fs/\(H.encode("~:box"))", token: alice)
                #expect(listed.status == 200 && listed.json["facets"] == .array(["alice,alice"]), "\(listed.text)")
                #expect(try await h.request(.GET, "/v1/fs/\(H.encode("home:<alice,alice>:box"))", token: bob).status == 403)

                // Blobs stream in and out.
                let bytes = (0..<300_000).map { UInt8($0 % 251) }
                let put = try await h.request(.PUT, "/v1/blobs/\(H.encode("~:notes:big"))?label=alice,alice", token: alice, body: bytes)
                #expect(put.status == 201 && put.json["size"]?.int == bytes.count)
                #expect(try await h.request(.GET, "/v1/blobs/\(H.encode("~:notes:big"))", token: alice).body == bytes)
                #expect(try await h.request(.GET, "/v1/blobs/\(H.encode("home:<alice,alice>:notes:big"))", token: bob).status == 403)

                // Link and unlink.
                #expect(
                    try await h.request(.POST, "/v1/fs/\(H.encode("~:notes:again"))/link", token: alice, json: ["target": "~:notes:todo"]).status
                        == 201)
                #expect(try await h.request(.DELETE, "/v1/fs/\(H.encode("~:notes:again"))", token: alice).status == 204)
                #expect(try await h.request(.GET, "/v1/fs/\(H.encode("~:notes:again"))", token: alice).status == 404)

                // Bad input: 4xx with a reason, never 5xx.
                for (path, headers) in [
                    ("/v1/fs/\(H.encode("home:<alice"))", [String: String]()), ("/v1/fs/\(H.encode("~"))", ["X-Faasten-Label": "a//b,T"]),
                    ("/v1/fs/%zz", [:]), ("/v1/nothing", [:]),
                ] {
                    let reply = try await h.request(.GET, path, token: alice, headers: headers)
                    #expect((400..<500).contains(reply.status) && reply.json["reason"] != nil, "\(path): \(reply.status) \(reply.text)")
                }
            }
        }

        @Test func gatesAndServicesAreCreatedChangedAndAudited() async throws {
            try await H.with { h in
                let alice = try await h.user("alice")
                let bob = try await h.user("bob")
                #expect(try await h.deploy("toolkit", at: "~:tool", token: alice, privilege: "alice", label: "T,alice").status == 201)
                // Changing a gate needs the new privilege: bob's may not be granted by alice.
                let changed = try await h.request(.PATCH, "/v1/fs/\(H.encode("~:tool"))", token: alice, json: ["memory_mb": 256, "declassify": "T"])
                #expect(changed.status == 200, "\(changed.text)")
                let gate = changed.json["gate"]
                #expect(gate?["memory_mb"]?.int == 256 && gate?["declassify"]?.string == "T")
                let stolen = try await h.request(.PATCH, "/v1/fs/\(H.encode("~:tool"))", token: alice, json: ["privilege": "bob"])
                #expect(stolen.status == 403, "\(stolen.text)")
                #expect(try await h.request(.PATCH, "/v1/fs/\(H.encode("home:<alice,alice>:tool"))", token: bob, json: ["memory_mb": 64]).status == 403)
                #expect(try await h.request(.PATCH, "/v1/fs/\(H.encode("~:tool"))", token: alice, json: ["memory_mb": 1]).status == 400)

                let service: [String: Any] = [
                    "kind": "service", "url": "https://api.example.com/v1/{city}", "privilege": "alice", "taint": "T,T",
                    "label": "T,alice", "headers": ["X-Key": "k"],
                ]
                let created = try await h.request(.POST, "/v1/fs/\(H.encode("~:weather"))", token: alice, json: service)
                #expect(created.status == 201 && created.json["service"]?["verb"]?.string == "GET", "\(created.text)")
                var bobs = service
                bobs["privilege"] = "alice"
                #expect(try await h.request(.POST, "/v1/fs/\(H.encode("~:weather"))", token: bob, json: bobs).status == 403)
                bobs["verb"] = "FETCH"
                #expect(try await h.request(.POST, "/v1/fs/\(H.encode("~:w2"))", token: alice, json: bobs).status == 400)

                await h.gateway.audit.flush()
                let admin = try await h.admin()
                let events = try await h.request(.GET, "/v1/audit?principal=alice", token: admin).json["events"]?.array ?? []
                let actions = events.compactMap { $0["action"]?.string }
                #expect(actions.contains("gate_create") && actions.contains("gate_update") && actions.contains("service_create"), "\(actions)")
            }
        }
    }
}
