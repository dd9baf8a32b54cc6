import Foundation
import JSONValues
import NIOHTTP1
import Testing

@testable import Gateway

extension GatewayTests {
    /// Administration against a real server (users, passwords, key rotation) and the
    /// audit log of what happened.
    @Suite("administration and the audit log")
    struct AdministrationTests {
        @Test func administrationAndTheAuditLog() async throws {
            try await H.with { h in
                let admin = try await h.admin()
                let bob = try await h.user("bob")
                let alice = try await h.user("alice")
                #expect(try await h.request(.GET, "/v1/admin/users", token: bob).status == 403)
                #expect(try await h.request(.GET, "/v1/admin/users").status == 401)
                let users = try await h.request(.GET, "/v1/admin/users", token: admin)
                #expect((users.json["users"]?.array)?.compactMap { $0["name"]?.string } == ["admin", "alice", "bob"])

                #expect(try await h.request(.POST, "/v1/admin/users/bob/disable", token: admin).status == 200)
                #expect(try await h.request(.GET, "/v1/me", token: bob).status == 401)
                #expect(try await h.login("bob", "bob-password").status == 403)
                #expect(try await h.request(.POST, "/v1/admin/users/bob/enable", token: admin).status == 200)
                #expect(try await h.request(.POST, "/v1/admin/users/bob/password", token: admin, json: ["password": "new-password"]).status == 204)
                #expect(try await h.login("bob", "new-password").status == 200)
                #expect(try await h.request(.POST, "/v1/admin/users/nobody/disable", token: admin).status == 404)
                // A token the admin delegates, even with the whole admin privilege, does not administer.
                let delegated = try #require(try await h.request(.POST, "/v1/delegate", token: admin, json: ["privilege": "admin"]).json["token"]?.string)
                #expect(try await h.request(.GET, "/v1/admin/users", token: delegated).status == 403)

                // Rotating keys keeps old tokens valid and signs new ones with the new key.
                let rotated = try await h.request(.POST, "/v1/admin/keys/rotate", token: admin)
                #expect(rotated.status == 200)
                #expect(try await h.request(.GET, "/v1/me", token: alice).status == 200)
                #expect(try FileManager.default.contentsOfDirectory(atPath: h.keys).count == 2)
                let kid = try #require(rotated.json["kid"]?.string)
                let mode = try FileManager.default.attributesOfItem(atPath: h.keys + "/" + kid + ".pem")[.posixPermissions] as? Int
                #expect(mode == 0o600)

                // A function's declassification is audited.
                _ = try await h.deploy("toolkit", at: "~:tool", token: alice, privilege: "alice", label: "T,alice")
                _ = try await h.request(
                    .POST, "/v1/fs/\(H.encode("~:secret"))", token: alice, json: ["kind": "file", "data": "x", "label": "alice,alice"])
                let steps = Array(#"{"steps": [{"read": "home:<alice,alice>:secret"}, {"declassify": "T"}]}"#.utf8)
                let declassifying = try await h.request(.POST, "/v1/invoke/\(H.encode("~:tool"))", token: alice, body: steps)
                #expect(declassifying.status == 200, "\(declassifying.text)")
                #expect(try await h.login("alice", "not-her-password").status == 401)

                #expect(try await h.request(.DELETE, "/v1/admin/users/bob", token: admin).status == 204)
                #expect(try await h.request(.GET, "/v1/me", token: bob).status == 401)
                let audit = try await h.request(.GET, "/v1/audit?limit=1000", token: admin)
                let actions = Set((audit.json["events"]?.array ?? []).compactMap { $0["action"]?.string })
                for action in ["register", "login", "login_failed", "user_disable", "password_reset", "key_rotate", "gate_create", "declassify", "user_delete"] {
                    #expect(actions.contains(action), "no \(action) in \(actions)")
                }
                let declassified = try await h.request(.GET, "/v1/audit?action=declassify", token: admin).json["events"]?.array
                let labels = declassified?.first?["labels"]
                #expect(labels?["before"]?.string?.hasPrefix("alice,") == true && labels?["after"]?.string?.hasPrefix("T,") == true, "\(labels?.text ?? "-")")
                #expect(try await h.request(.GET, "/v1/audit?limit=0", token: admin).status == 400)
                #expect(try await h.request(.GET, "/v1/audit", token: alice).status == 403)
            }
        }
    }
}
