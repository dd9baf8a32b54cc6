import Crypto
import FaastenTestSupport
import Foundation
import JWTKit
import NIOHTTP1
import Testing

@testable import Gateway

/// The HTTP API against a real server on 127.0.0.1: accounts and tokens, the file
/// system, invocations with the result check, administration and the audit log.
@Suite(.serialized) struct GatewayTests {
    typealias H = GatewayHarness

    @Test func accountsLoginRefreshAndLogout() async throws {
        try await H.with { h in
            let created = try await h.request(.POST, "/v1/accounts", json: ["name": "carol", "password": "carol-password"])
            #expect(created.status == 201)
            #expect(created.json["principal"] as? String == "carol")
            #expect(try await h.request(.POST, "/v1/accounts", json: ["name": "carol", "password": "another-one"]).status == 409)
            #expect(try await h.request(.POST, "/v1/accounts", json: ["name": "admin", "password": "password1"]).status == 409)
            for bad in [["name": "Carol!", "password": "password1"], ["name": "dave", "password": "short"], ["name": "dave"]] {
                let refused = try await h.request(.POST, "/v1/accounts", json: bad)
                #expect(refused.status == 400 && refused.json["error"] as? String == "bad_request", "\(bad): \(refused.text)")
            }
            #expect(try await h.request(.POST, "/v1/accounts", body: Array("{not json".utf8)).status == 400)

            #expect(try await h.login("carol", "wrong-password").status == 401)
            #expect(try await h.login("nobody", "wrong-password").json["reason"] as? String == "wrong name or password")
            let session = try await h.login("carol", "carol-password")
            #expect(session.status == 200)
            let token = try #require(session.json["token"] as? String)
            let me = try await h.request(.GET, "/v1/me", token: token)
            #expect(me.json["principal"] as? String == "carol" && me.json["privilege"] as? String == "carol")
            #expect(try await h.request(.GET, "/v1/me").json["anonymous"] as? Bool == true)

            // A refresh token works once.
            let refresh = try #require(session.json["refresh_token"] as? String)
            let renewed = try await h.request(.POST, "/v1/refresh", json: ["refresh_token": refresh])
            #expect(renewed.status == 200)
            #expect(try await h.request(.POST, "/v1/refresh", json: ["refresh_token": refresh]).status == 401)

            // Logging out ends the token.
            let second = try #require(renewed.json["token"] as? String)
            #expect(try await h.request(.POST, "/v1/logout", token: second).status == 204)
            #expect(try await h.request(.GET, "/v1/me", token: second).status == 401)
            #expect(try await h.request(.GET, "/v1/me", token: token).status == 200)
        }
    }

    @Test func badTokensAreRefusedNeverAnonymous() async throws {
        try await H.with(tokenLifetime: .seconds(1)) { h in
            let token = try await h.user("carol")
            let parts = token.split(separator: ".").map(String.init)
            // Tampered payload: another principal, same signature.
            let forged = Data(#"{"sub":"admin","priv":"F","exp":9999999999,"iat":0,"jti":"x","kind":"login"}"#.utf8)
                .base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
            let none = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            // Signed with a key of the same kind the server does not hold.
            let stranger = JWTKeyCollection()
            await stranger.add(ecdsa: ES256PrivateKey(), kid: "stranger")
            let claims = AccessClaims(
                sub: SubjectClaim(value: "carol"), priv: "carol", exp: ExpirationClaim(value: Date().addingTimeInterval(600)),
                iat: IssuedAtClaim(value: Date()), jti: IDClaim(value: "y"), kind: "login")
            let foreign = try await stranger.sign(claims, kid: "stranger")
            for bad in [parts[0] + "." + forged + "." + parts[2], none + "." + parts[1] + ".", foreign, "garbage", ""] {
                let reply = try await h.request(.GET, "/v1/me", headers: ["Authorization": "Bearer \(bad)"])
                #expect(reply.status == 401, "\(bad): \(reply.text)")
            }
            #expect(try await h.request(.GET, "/v1/me", headers: ["Authorization": "Basic abc"]).status == 401)
            try await Task.sleep(for: .seconds(2.2))
            let expired = try await h.request(.GET, "/v1/me", token: token)
            #expect(expired.status == 401)
            #expect((expired.json["reason"] as? String)?.contains("expired") == true)
        }
    }

    @Test func delegationOnlyToWhatTheCallerSpeaksFor() async throws {
        try await H.with { h in
            let alice = try await h.user("alice")
            let delegated = try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "alice/photos", "expires_in": 60])
            #expect(delegated.status == 201)
            let photos = try #require(delegated.json["token"] as? String)
            #expect(try await h.request(.GET, "/v1/me", token: photos).json["privilege"] as? String == "alice/photos")
            let refused = try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "bob"])
            #expect(refused.status == 403 && refused.json["rule"] as? String == "delegation rule")
            // The weaker token cannot climb back.
            #expect(try await h.request(.POST, "/v1/delegate", token: photos, json: ["privilege": "alice"]).status == 403)
            #expect(try await h.request(.POST, "/v1/delegate", json: ["privilege": "T"]).status == 401)
            #expect(try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "a//b"]).status == 400)
        }
    }

    @Test func loginsAreRateLimitedPerName() async throws {
        try await H.with(loginAttemptsPerName: 3) { h in
            _ = try await h.user("carol")  // one successful login resets the count
            for _ in 0..<3 { #expect(try await h.login("carol", "wrong-password").status == 401) }
            let limited = try await h.login("carol", "carol-password")
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "Retry-After") != nil)
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
            let gate = changed.json["gate"] as? [String: Any]
            #expect(gate?["memory_mb"] as? Int == 256 && gate?["declassify"] as? String == "T")
            let stolen = try await h.request(.PATCH, "/v1/fs/\(H.encode("~:tool"))", token: alice, json: ["privilege": "bob"])
            #expect(stolen.status == 403, "\(stolen.text)")
            #expect(try await h.request(.PATCH, "/v1/fs/\(H.encode("home:<alice,alice>:tool"))", token: bob, json: ["memory_mb": 64]).status == 403)
            #expect(try await h.request(.PATCH, "/v1/fs/\(H.encode("~:tool"))", token: alice, json: ["memory_mb": 1]).status == 400)

            let service: [String: Any] = [
                "kind": "service", "url": "https://api.example.com/v1/{city}", "privilege": "alice", "taint": "T,T",
                "label": "T,alice", "headers": ["X-Key": "k"],
            ]
            let created = try await h.request(.POST, "/v1/fs/\(H.encode("~:weather"))", token: alice, json: service)
            #expect(created.status == 201 && (created.json["service"] as? [String: Any])?["verb"] as? String == "GET", "\(created.text)")
            var bobs = service
            bobs["privilege"] = "alice"
            #expect(try await h.request(.POST, "/v1/fs/\(H.encode("~:weather"))", token: bob, json: bobs).status == 403)
            bobs["verb"] = "FETCH"
            #expect(try await h.request(.POST, "/v1/fs/\(H.encode("~:w2"))", token: alice, json: bobs).status == 400)

            await h.gateway.audit.flush()
            let admin = try await h.admin()
            let events = try await h.request(.GET, "/v1/audit?principal=alice", token: admin).json["events"] as? [[String: Any]] ?? []
            let actions = events.compactMap { $0["action"] as? String }
            #expect(actions.contains("gate_create") && actions.contains("gate_update") && actions.contains("service_create"), "\(actions)")
        }
    }

    @Test func loginsAreRateLimitedPerAddressAcrossNames() async throws {
        try await H.with(loginAttemptsPerAddress: 4) { h in
            _ = try await h.request(.POST, "/v1/accounts", json: ["name": "carol", "password": "carol-password"])
            for name in ["dave", "erin", "frank", "grace"] {
                #expect(try await h.login(name, "guessing-a-password").status == 401)
            }
            // Guessing other names does not help: the address is out of attempts.
            let limited = try await h.login("carol", "carol-password")
            #expect(limited.status == 429 && limited.json["error"] as? String == "rate_limited", "\(limited.text)")
        }
    }

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
            #expect(read.json["data"] as? String == "buy milk")
            #expect(read.endLabel == "alice,T")  // integrity T ∨ alice
            #expect(try await h.request(.PUT, "/v1/fs/\(H.encode("~:notes:todo"))", token: alice, body: Array("eggs".utf8)).status == 200)
            let raw = try await h.request(.GET, "/v1/fs/\(H.encode("~:notes:todo"))?raw=true", token: alice)
            #expect(raw.text == "eggs")

            // bob is shown nothing: his request's clearance is what he may be shown (bob,T),
            // so the first read of alice's data is refused, before anything else happens.
            let refused = try await h.request(.GET, "/v1/fs/\(H.encode("home:<alice,alice>:notes:todo"))", token: bob)
            #expect(refused.status == 403 && refused.json["rule"] as? String == "read rule", "\(refused.text)")
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
            #expect(listed.status == 200 && listed.json["facets"] as? [String] == ["alice,alice"], "\(listed.text)")
            #expect(try await h.request(.GET, "/v1/fs/\(H.encode("home:<alice,alice>:box"))", token: bob).status == 403)

            // Blobs stream in and out.
            let bytes = (0..<300_000).map { UInt8($0 % 251) }
            let put = try await h.request(.PUT, "/v1/blobs/\(H.encode("~:notes:big"))?label=alice,alice", token: alice, body: bytes)
            #expect(put.status == 201 && put.json["size"] as? Int == bytes.count)
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

    @Test func invocationsShowResultsOnlyToWhoMaySeeThem() async throws {
        try await H.with { h in
            let alice = try await h.user("alice")
            let bob = try await h.user("bob")
            let deployed = try await h.deploy("toolkit", at: "~:tool", token: alice, privilege: "alice", label: "T,alice", declassify: "T")
            #expect(deployed.status == 201, "\(deployed.text)")
            _ = try await h.request(
                .POST, "/v1/fs/\(H.encode("~:secret"))", token: alice, json: ["kind": "file", "data": "the plan", "label": "alice,alice"])
            let gate = "/v1/invoke/\(H.encode("home:<alice,alice>:tool"))"
            // The gate's privilege may read alice's file, but declassify T keeps it hers.
            let steps = Array(#"{"steps": [{"read": "home:<alice,alice>:secret"}]}"#.utf8)
            let mine = try await h.request(.POST, gate, token: alice, body: steps)
            #expect(mine.status == 200 && mine.text.contains("the plan"), "\(mine.text)")
            #expect(mine.endLabel == "alice,T")
            let theirs = try await h.request(.POST, gate, token: bob, body: steps)
            #expect(theirs.status == 403 && !theirs.text.contains("the plan"))
            #expect((theirs.json["labels"] as? [String: String])?["result"] == "alice,T")
            // The original's endpoint does the same.
            #expect(try await h.request(.POST, "/faasten/invoke/\(H.encode("home:<alice,alice>:tool"))", token: bob, body: steps).status == 403)

            // Asynchronous: 202 and an id; the record is the invoker's business.
            let queued = try await h.request(.POST, gate + "?async=true", token: alice, body: steps)
            #expect(queued.status == 202)
            let id = try #require(queued.json["id"] as? String)
            var state = ""
            for _ in 0..<100 where state != "finished" {
                try await Task.sleep(for: .milliseconds(100))
                state = try await h.request(.GET, "/v1/invocations/\(id)", token: alice).json["state"] as? String ?? ""
            }
            let record = try await h.request(.GET, "/v1/invocations/\(id)", token: alice)
            #expect(((record.json["outcome"] as? [String: Any])?["body"] as? String)?.contains("the plan") == true)
            #expect(try await h.request(.GET, "/v1/invocations/\(id)", token: bob).status == 404)
            #expect(try await h.request(.GET, "/v1/invocations/\(id)/logs", token: alice).status == 200)

            // A delegated alice/x token invokes as alice/x: it does not see alice's result.
            let weaker = try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "alice/x"]).json["token"] as! String
            #expect(try await h.request(.POST, gate, token: weaker, body: steps).status == 403)
            // Missing gates and malformed labels are client errors.
            #expect(try await h.request(.POST, "/v1/invoke/\(H.encode("~:nothing"))", token: alice, body: steps).status == 404)
            #expect(try await h.request(.POST, gate, token: alice, body: steps, headers: ["X-Faasten-Label": "(,"]).status == 400)
        }
    }

    @Test func administrationAndTheAuditLog() async throws {
        try await H.with { h in
            let admin = try await h.admin()
            let bob = try await h.user("bob")
            let alice = try await h.user("alice")
            #expect(try await h.request(.GET, "/v1/admin/users", token: bob).status == 403)
            #expect(try await h.request(.GET, "/v1/admin/users").status == 401)
            let users = try await h.request(.GET, "/v1/admin/users", token: admin)
            #expect((users.json["users"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["admin", "alice", "bob"])

            #expect(try await h.request(.POST, "/v1/admin/users/bob/disable", token: admin).status == 200)
            #expect(try await h.request(.GET, "/v1/me", token: bob).status == 401)
            #expect(try await h.login("bob", "bob-password").status == 403)
            #expect(try await h.request(.POST, "/v1/admin/users/bob/enable", token: admin).status == 200)
            #expect(try await h.request(.POST, "/v1/admin/users/bob/password", token: admin, json: ["password": "new-password"]).status == 204)
            #expect(try await h.login("bob", "new-password").status == 200)
            #expect(try await h.request(.POST, "/v1/admin/users/nobody/disable", token: admin).status == 404)
            // A token the admin delegates, even with the whole admin privilege, does not administer.
            let delegated = try await h.request(.POST, "/v1/delegate", token: admin, json: ["privilege": "admin"]).json["token"] as! String
            #expect(try await h.request(.GET, "/v1/admin/users", token: delegated).status == 403)

            // Rotating keys keeps old tokens valid and signs new ones with the new key.
            let rotated = try await h.request(.POST, "/v1/admin/keys/rotate", token: admin)
            #expect(rotated.status == 200)
            #expect(try await h.request(.GET, "/v1/me", token: alice).status == 200)
            #expect(try FileManager.default.contentsOfDirectory(atPath: h.keys).count == 2)
            let mode = try FileManager.default.attributesOfItem(atPath: h.keys + "/" + (rotated.json["kid"] as! String) + ".pem")[.posixPermissions] as? Int
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
            let actions = Set((audit.json["events"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String })
            for action in ["register", "login", "login_failed", "user_disable", "password_reset", "key_rotate", "gate_create", "declassify", "user_delete"] {
                #expect(actions.contains(action), "no \(action) in \(actions)")
            }
            let declassified = try await h.request(.GET, "/v1/audit?action=declassify", token: admin).json["events"] as? [[String: Any]]
            let labels = declassified?.first?["labels"] as? [String: String]
            #expect(labels?["before"]?.hasPrefix("alice,") == true && labels?["after"]?.hasPrefix("T,") == true, "\(labels ?? [:])")
            #expect(try await h.request(.GET, "/v1/audit?limit=0", token: admin).status == 400)
            #expect(try await h.request(.GET, "/v1/audit", token: alice).status == 403)
        }
    }

    @Test func operationsEndpointsAndAliases() async throws {
        try await H.with { h in
            let health = try await h.request(.GET, "/healthz").json
            #expect(health["status"] as? String == "ok" && health["records"] as? String == "ok")
            #expect(try await h.request(.GET, "/faasten/ping").text == "Pong.")
            let alice = try await h.user("alice")
            #expect(try await h.request(.GET, "/me", token: alice).json["login"] as? String == "alice")
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
