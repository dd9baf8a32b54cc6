import JSONValues
import NIOHTTP1
import Testing

@testable import Gateway

extension GatewayTests {
    /// `/v1/invoke` and `/v1/invocations` against a real server, with the result check.
    @Suite("invocation routes")
    struct InvokeRouteTests {
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
                #expect(theirs.json["labels"]?["result"] == "alice,T")
                // The original's endpoint does the same.
                #expect(try await h.request(.POST, "/faasten/invoke/\(H.encode("home:<alice,alice>:tool"))", token: bob, body: steps).status == 403)

                // Asynchronous: 202 and an id; the record is the invoker's business.
                let queued = try await h.request(.POST, gate + "?async=true", token: alice, body: steps)
                #expect(queued.status == 202)
                let id = try #require(queued.json["id"]?.string)
                var state = ""
                for _ in 0..<100 where state != "finished" {
                    try await Task.sleep(for: .milliseconds(100))
                    state = try await h.request(.GET, "/v1/invocations/\(id)", token: alice).json["state"]?.string ?? ""
                }
                let record = try await h.request(.GET, "/v1/invocations/\(id)", token: alice)
                #expect((record.json["outcome"]?["body"]?.string)?.contains("the plan") == true)
                #expect(try await h.request(.GET, "/v1/invocations/\(id)", token: bob).status == 404)
                #expect(try await h.request(.GET, "/v1/invocations/\(id)/logs", token: alice).status == 200)

                // A delegated alice/x token invokes as alice/x: it does not see alice's result.
                let weaker = try #require(try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "alice/x"]).json["token"]?.string)
                #expect(try await h.request(.POST, gate, token: weaker, body: steps).status == 403)
                // Missing gates and malformed labels are client errors.
                #expect(try await h.request(.POST, "/v1/invoke/\(H.encode("~:nothing"))", token: alice, body: steps).status == 404)
                #expect(try await h.request(.POST, gate, token: alice, body: steps, headers: ["X-Faasten-Label": "(,"]).status == 400)
            }
        }
    }
}
