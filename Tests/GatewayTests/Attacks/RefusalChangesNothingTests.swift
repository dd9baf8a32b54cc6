import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

extension AttackTests {
    /// A refused request changes nothing: for every mutating endpoint, a 4xx answer leaves
    /// the store byte for byte as it was (a dump of every table but the audit log, and every
    /// blob file, before and after). A request's clearance is what its caller may be shown,
    /// so what would end above it is refused before it happens; blind writes up still work.
    @Suite("attack: a refusal changes nothing", .serialized)
    struct RefusalChangesNothingTests {
        typealias S = ServedPlatform

        @Test func everyMutatingFileSystemEndpoint() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                for (path, spec) in [
                    ("~:diary", ["kind": "file", "data": "mine", "label": "alice,alice"]),
                    ("~:album", ["kind": "directory", "label": "alice,alice"]),
                    ("home:<T,T>:shared", ["kind": "directory", "label": "T,T"]),
                    ("home:<T,T>:shared:secret", ["kind": "file", "data": "alice only", "label": "alice,T"]),
                    ("home:<T,T>:shared:box", ["kind": "faceted"]),
                ] {
                    let made = try await s.request(.POST, S.fs(path), token: alice, json: spec)
                    try #require(made.status == 201, "\(path): \(made.text)")
                }
                #expect(try await s.request(.PUT, S.blobs("~:album:photo") + "?label=alice,alice", token: alice, body: [1, 2, 3]).status == 201)
                try await s.deploy("toolkit", at: "~:tool", token: alice, label: "alice,alice", ["privilege": "alice"])
                let big = [UInt8](repeating: 7, count: 200_000)

                let attacks: [(String, Int?, () async throws -> S.Reply)] = [
                    // Reading above the caller's clearance before a write: refused before the write.
                    ("create a file under alice's directory", 403, {
                        try await s.request(.POST, S.fs("home:<alice,alice>:album:x"), token: bob, json: ["kind": "file", "data": "x", "label": "alice&bob,T"])
                    }),
                    ("create next to a secret read first", 403, {
                        try await s.request(.POST, S.fs("home:<alice,alice>:x"), token: bob, json: ["kind": "directory", "label": "alice,T"])
                    }),
                    ("write alice's file", 403, { try await s.request(.PUT, S.fs("home:<alice,alice>:diary"), token: bob, body: Array("x".utf8)) }),
                    ("update alice's gate", 403, { try await s.request(.PATCH, S.fs("home:<alice,alice>:tool"), token: bob, json: ["memory_mb": 256]) }),
                    ("update with an unowned privilege", 403, { try await s.request(.PATCH, S.fs("~:tool"), token: alice, json: ["privilege": "bob"]) }),
                    ("update with a bad memory size", 400, { try await s.request(.PATCH, S.fs("~:tool"), token: alice, json: ["memory_mb": 1]) }),
                    ("unlink in alice's home", 403, { try await s.request(.DELETE, S.fs("home:<alice,alice>:diary"), token: bob) }),
                    ("unlink a missing name", 404, { try await s.request(.DELETE, S.fs("~:nothing"), token: alice) }),
                    ("link into alice's home", 403, {
                        try await s.request(.POST, S.fs("home:<alice,alice>:again") + "/link", token: bob, json: ["target": "home:<T,T>:shared"])
                    }),
                    ("link alice's secret elsewhere", 403, {
                        try await s.request(.POST, S.fs("home:<T,T>:shared:copy") + "/link", token: bob, json: ["target": "home:<alice,alice>:diary"])
                    }),
                    ("link an existing name", 409, {
                        try await s.request(.POST, S.fs("~:diary") + "/link", token: alice, json: ["target": "~:album"])
                    }),
                    ("upload into alice's home", 403, { try await s.request(.PUT, S.blobs("home:<alice,alice>:album:b") + "?label=alice,alice", token: bob, body: big) }),
                    ("upload over alice's blob", 403, { try await s.request(.PUT, S.blobs("home:<alice,alice>:album:photo"), token: bob, body: big) }),
                    ("upload over a file", 409, { try await s.request(.PUT, S.blobs("~:diary"), token: alice, body: big) }),
                    ("upload with a bad label", 400, { try await s.request(.PUT, S.blobs("~:b") + "?label=a//b,T", token: alice, body: big) }),
                    ("create a gate with bob's privilege", 403, {
                        try await s.request(.POST, S.fs("~:g"), token: alice, json: ["kind": "gate", "privilege": "bob", "image": "~:tool.image"])
                    }),
                    ("create with a duplicate name", 409, { try await s.request(.POST, S.fs("~:diary"), token: alice, json: ["kind": "file"]) }),
                    ("create a file with a bad name", 400, { try await s.request(.POST, S.fs("~:%"), token: alice, json: ["kind": "file"]) }),
                ]
                for (what, status, attack) in attacks {
                    try await s.expectNoEffect(what, status: status, attack)
                }

                // Blind writes up (that raise nothing) keep working: bob writes what only alice may read.
                let up = try await s.request(
                    .POST, S.fs("home:<T,T>:shared:for-alice"), token: bob, json: ["kind": "file", "data": "from bob", "label": "alice,T"])
                #expect(up.status == 201, "\(up.text)")
                #expect(up.json["data"]?.string == "from bob" && up.json["label"]?.string == "alice,T")
                #expect(try await s.request(.PUT, S.fs("home:<T,T>:shared:secret"), token: bob, body: Array("overwritten blind".utf8)).status == 200)
                let blindBlob = try await s.request(.PUT, S.blobs("home:<T,T>:shared:drop") + "?label=alice,T", token: bob, body: [9, 9])
                #expect(blindBlob.status == 201, "\(blindBlob.text)")
                #expect(try await s.request(.GET, S.fs("home:<T,T>:shared:for-alice"), token: alice).json["data"]?.string == "from bob")
                #expect(try await s.request(.GET, S.fs("home:<T,T>:shared:for-alice"), token: bob).status == 403)
            }
        }

        @Test func invocationsTriggersAndAccounts() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                let admin = try await s.admin()
                try await s.deploy("toolkit", at: "~:tool", token: alice, label: "T,alice", ["privilege": "alice"])
                try await s.deploy("hookecho", at: "~:hook", token: alice, label: "T,alice", ["privilege": "alice"])
                let trigger = try await s.request(.POST, "/v1/triggers", token: alice, json: ["name": "ci", "source": "github", "gate": "~:hook", "privilege": "alice"])
                let id = try #require(trigger.json["id"]?.string, "\(trigger.text)")
                let refresh = try #require(
                    try await s.request(.POST, "/v1/login", json: ["name": "bob", "password": "bob-password"]).json["refresh_token"]?.string)
                let payload = Array(#"{"steps": []}"#.utf8)

                let attacks: [(String, Int?, () async throws -> S.Reply)] = [
                    ("invoke a gate only alice may invoke", 403, { try await s.request(.POST, S.invoke("home:<alice,alice>:tool"), token: bob, body: payload) }),
                    ("invoke it asynchronously", 403, {
                        try await s.request(.POST, S.invoke("home:<alice,alice>:tool") + "?async=true", token: bob, body: payload)
                    }),
                    ("invoke it through the original API", 403, {
                        try await s.request(.POST, "/faasten/invoke/" + GatewayHarness.encode("home:<alice,alice>:tool"), token: bob, body: payload)
                    }),
                    ("invoke nothing", 404, { try await s.request(.POST, S.invoke("~:nothing"), token: alice, body: payload) }),
                    ("invoke nothing asynchronously", 404, { try await s.request(.POST, S.invoke("~:nothing") + "?async=true", token: alice, body: payload) }),
                    ("invoke a file", 400, { try await s.request(.POST, S.invoke("~:tool.image"), token: alice, body: payload) }),
                    ("a trigger with an unowned privilege", 403, {
                        try await s.request(.POST, "/v1/triggers", token: bob, json: ["name": "x", "source": "github", "gate": "~:hook", "privilege": "alice"])
                    }),
                    ("a trigger with a taken name", 409, {
                        try await s.request(.POST, "/v1/triggers", token: alice, json: ["name": "ci", "source": "github", "gate": "~:hook", "privilege": "alice"])
                    }),
                    ("a trigger with a bad schedule", 400, {
                        try await s.request(
                            .POST, "/v1/triggers", token: alice, json: ["name": "s", "source": "schedule", "gate": "~:hook", "privilege": "alice", "schedule": "61 * * * *"])
                    }),
                    ("delete someone else's trigger", 404, { try await s.request(.DELETE, "/v1/triggers/\(id)", token: bob) }),
                    ("an unsigned webhook", 401, { try await s.request(.POST, "/v1/hooks/\(id)", body: Array("{}".utf8), headers: ["X-GitHub-Event": "push", "X-GitHub-Delivery": "d"]) }),
                    ("a webhook of no trigger", 404, { try await s.request(.POST, "/v1/hooks/nothing", body: Array("{}".utf8)) }),
                    ("register a taken name", 409, { try await s.request(.POST, "/v1/accounts", json: ["name": "alice", "password": "another-password"]) }),
                    ("register a reserved name", 409, { try await s.request(.POST, "/v1/accounts", json: ["name": "faasten", "password": "a-long-password"]) }),
                    ("register a bad name", 400, { try await s.request(.POST, "/v1/accounts", json: ["name": "Bad Name", "password": "a-long-password"]) }),
                    ("refresh with nonsense", 401, { try await s.request(.POST, "/v1/refresh", json: ["refresh_token": "nonsense"]) }),
                    ("log out with a text body", 415, {
                        try await s.request(.POST, "/v1/logout", token: bob, body: Array(refresh.utf8), headers: ["Content-Type": "text/plain"])
                    }),
                    ("log out without a token", 401, { try await s.request(.POST, "/v1/logout", json: ["refresh_token": refresh]) }),
                    ("delegate an unowned privilege", 403, { try await s.request(.POST, "/v1/delegate", token: bob, json: ["privilege": "alice"]) }),
                    ("disable as a user", 403, { try await s.request(.POST, "/v1/admin/users/alice/disable", token: bob) }),
                    ("reset a password as a user", 403, {
                        try await s.request(.POST, "/v1/admin/users/alice/password", token: bob, json: ["password": "taken-over-now"])
                    }),
                    ("delete a user as a user", 403, { try await s.request(.DELETE, "/v1/admin/users/alice", token: bob) }),
                    ("rotate keys as a user", 403, { try await s.request(.POST, "/v1/admin/keys/rotate", token: bob) }),
                    ("disable nobody", 404, { try await s.request(.POST, "/v1/admin/users/nobody/disable", token: admin) }),
                    ("delete the admin", 409, { try await s.request(.DELETE, "/v1/admin/users/admin", token: admin) }),
                ]
                for (what, status, attack) in attacks {
                    try await s.expectNoEffect(what, status: status, attack)
                }
            }
        }
    }
}
