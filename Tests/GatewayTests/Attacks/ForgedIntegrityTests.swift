import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

extension AttackTests {
    /// Integrity cannot be claimed: through every entry point that accepts a label from
    /// outside, a context may start at a label only if the privilege it runs with implies
    /// the label's integrity (the start rule). Attacked through a real `faasten serve`.
    @Suite("attack: forged integrity", .serialized)
    struct ForgedIntegrityTests {
        typealias S = ServedPlatform

        /// The forged start labels: alice's integrity, bottom's, alice's whole label.
        static let forged = ["T,alice", "T,F", "alice,alice", "T,faasten"]

        @Test func labelHeadersCannotClaimIntegrityOnAnyFileSystemWrite() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                #expect(try await s.request(.POST, S.fs("~:diary"), token: alice, json: ["kind": "file", "data": "mine", "label": "alice,alice"]).status == 201)
                #expect(try await s.request(.POST, S.fs("home:<T,alice>:pub"), token: alice, json: ["kind": "directory", "label": "T,alice"]).status == 201)
                for token in [bob, nil] {
                    for label in Self.forged {
                        let who = "\(token == nil ? "anonymous" : "bob") at \(label)"
                        let headers = ["X-Faasten-Label": label]
                        // Overwrite alice's file, plant a file in her home, write in the system facet and at the root.
                        for (what, attack) in [
                            ("overwrite", { try await s.request(.PUT, S.fs("home:<alice,alice>:diary"), token: token, body: Array("forged".utf8), headers: headers) }),
                            ("plant", { try await s.request(.POST, S.fs("home:<alice,alice>:planted"), token: token, json: ["kind": "file", "data": "x"], headers: headers) }),
                            ("plant in her public directory", {
                                try await s.request(.POST, S.fs("home:<T,alice>:pub:planted"), token: token, json: ["kind": "file", "data": "x", "label": "T,alice"], headers: headers)
                            }),
                            ("system facet", { try await s.request(.POST, S.fs("home:<T,faasten>:x"), token: token, json: ["kind": "directory", "label": "T,faasten"], headers: headers) }),
                            ("root", { try await s.request(.POST, S.fs("x"), token: token, json: ["kind": "directory", "label": "T,F"], headers: headers) }),
                            ("unlink", { try await s.request(.DELETE, S.fs("home:<alice,alice>:diary"), token: token, headers: headers) }),
                            ("blob", { try await s.request(.PUT, S.blobs("home:<alice,alice>:b") + "?label=alice,alice", token: token, body: [1, 2, 3], headers: headers) }),
                        ] {
                            let reply = try await s.expectNoEffect("\(what) by \(who)", status: 403, attack)
                            #expect(reply.json["rule"]?.string == "start rule", "\(what) by \(who): \(reply.text)")
                            let labels = reply.json["labels"]
                            #expect(labels?["start"]?.string != nil && labels?["privilege"]?.string == (token == nil ? "T" : "bob"))
                        }
                    }
                }
                // alice may start at her own integrity, and bob at his.
                #expect(try await s.request(.PUT, S.fs("~:diary"), token: alice, body: Array("still mine".utf8), headers: ["X-Faasten-Label": "T,alice"]).status == 200)
                #expect(try await s.request(.POST, S.fs("~:note"), token: bob, json: ["kind": "file", "label": "bob,bob"], headers: ["X-Faasten-Label": "bob,bob"]).status == 201)
                let diary = try await s.request(.GET, S.fs("~:diary"), token: alice)
                #expect(diary.json["data"]?.string == "still mine")
            }
        }

        @Test func theClearanceHeaderCanOnlyLowerTheBound() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                #expect(try await s.request(.POST, S.fs("~:diary"), token: alice, json: ["kind": "file", "data": "mine", "label": "alice,alice"]).status == 201)
                // A clearance of top does not let bob's request reach alice's data.
                for clearance in ["F,T", "alice,T", "F,F", "alice&bob,T"] {
                    let reply = try await s.expectNoEffect("read at clearance \(clearance)") {
                        try await s.request(.GET, S.fs("home:<alice,alice>:diary"), token: bob, headers: ["X-Faasten-Clearance": clearance])
                    }
                    #expect(!reply.text.contains("mine"))
                }
                // Lowered, it bounds alice's own request.
                let lowered = try await s.request(.GET, S.fs("~:diary"), token: alice, headers: ["X-Faasten-Clearance": "T,T"])
                #expect(lowered.status == 403 && lowered.json["rule"]?.string == "read rule")
            }
        }

        @Test func triggersAndSchedulesCannotBeConfiguredToStartAtIntegrityTheirPrivilegeLacks() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                try await s.deploy("hookecho", at: "~:hook", token: bob, label: "T,bob", ["privilege": "bob", "invoker_clearance": "T"])
                for (source, extra) in [("github", [String: Any]()), ("generic", [:]), ("schedule", ["schedule": "* * * * *"])] {
                    for label in ["T,alice", "T,F", "alice,alice", "T,bob&alice"] {
                        var spec: [String: Any] = ["name": "t", "source": source, "gate": "~:hook", "privilege": "bob", "start_label": label]
                        spec.merge(extra) { _, new in new }
                        let reply = try await s.expectNoEffect("\(source) trigger at \(label)", status: 403) {
                            try await s.request(.POST, "/v1/triggers", token: bob, json: spec)
                        }
                        #expect(reply.json["rule"]?.string == "start rule")
                    }
                    // A privilege narrower than the label's integrity: bob/ci cannot vouch for bob.
                    let narrower = try await s.expectNoEffect("\(source) trigger as bob/ci at T,bob", status: 403) {
                        var spec: [String: Any] = ["name": "t", "source": source, "gate": "~:hook", "privilege": "bob/ci", "start_label": "T,bob"]
                        spec.merge(extra) { _, new in new }
                        return try await s.request(.POST, "/v1/triggers", token: bob, json: spec)
                    }
                    #expect(narrower.json["rule"]?.string == "start rule")
                }
                // What bob's privilege vouches for is allowed.
                let allowed = try await s.request(
                    .POST, "/v1/triggers", token: bob, json: ["name": "ok", "source": "github", "gate": "~:hook", "privilege": "bob", "start_label": "bob,bob"])
                #expect(allowed.status == 201, "\(allowed.text)")
                _ = alice
            }
        }

        @Test func invocationsSynchronousAsynchronousAndTheOriginalFormCannotStartAtForgedIntegrity() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                #expect(try await s.request(.POST, S.fs("~:board"), token: alice, json: ["kind": "file", "data": "alice's", "label": "T,alice"]).status == 201)
                // A public tool that writes wherever its start label lets it.
                try await s.deploy("toolkit", at: "~:tool", token: bob, label: "T,bob", ["privilege": "T", "invoker_clearance": "T"])
                let write: [[String: Any]] = [["write": "home:<alice,alice>:board", "data": "forged"]]
                for token in [bob, nil] {
                    for label in Self.forged {
                        let headers = ["X-Faasten-Label": label]
                        for asynchronous in [false, true] {
                            let reply = try await s.expectNoEffect("invoke (async \(asynchronous)) at \(label)", status: 403) {
                                try await s.steps("home:<bob,bob>:tool", write, token: token, headers: headers, async: asynchronous)
                            }
                            #expect(reply.json["rule"]?.string == "start rule")
                            #expect(reply.headers.first(name: "X-Faasten-Invocation") == nil)
                        }
                        // The original API's form: the label field goes through the same rule.
                        let boundary = "faasten-test-boundary"
                        let form = Self.form(boundary, ["payload": #"{"steps": [{"write": "home:<alice,alice>:board", "data": "forged"}]}"#, "label": label])
                        let reply = try await s.expectNoEffect("original form at \(label)", status: 403) {
                            try await s.request(
                                .POST, "/faasten/invoke/" + GatewayHarness.encode("home:<bob,bob>:tool"), token: token, body: form,
                                headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"])
                        }
                        #expect(reply.json["rule"]?.string == "start rule")
                    }
                }
                let board = try await s.request(.GET, S.fs("~:board"), token: alice)
                #expect(board.json["data"]?.string == "alice's")
                // The form works for what the caller may start at, files becoming request blobs.
                let boundary = "b"
                let ok = Self.form(boundary, ["payload": #"{"steps": [{"print": "hi"}]}"#, "label": "T,bob"])
                let reply = try await s.request(
                    .POST, "/faasten/invoke/" + GatewayHarness.encode("home:<bob,bob>:tool"), token: bob, body: ok,
                    headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"])
                #expect(reply.status == 200, "\(reply.text)")
                let malformed = try await s.expectNoEffect("a form without its closing boundary", status: 400) {
                    try await s.request(
                        .POST, "/faasten/invoke/" + GatewayHarness.encode("home:<bob,bob>:tool"), token: bob, body: Array("--b\r\nbroken".utf8),
                        headers: ["Content-Type": "multipart/form-data; boundary=b"])
                }
                _ = malformed
            }
        }

        @Test func aFunctionPassesOnOnlyTheIntegrityItWasStartedWith() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                // alice's board, which only alice may vouch for, and a public tool in her integrity
                // facet that runs with no privilege: it can vouch for nothing itself.
                #expect(
                    try await s.request(.POST, S.fs("home:<T,alice>:board"), token: alice, json: ["kind": "file", "data": "alice's", "label": "T,alice"]).status
                        == 201)
                try await s.deploy("toolkit", at: "home:<T,alice>:tool", token: alice, label: "T,alice", ["privilege": "T", "invoker_clearance": "T"])
                let write: [String: Any] = ["steps": [["write": "home:<T,alice>:board", "data": "written"]]]
                let calls: [[String: Any]] = [
                    ["call": "home:<T,alice>:tool", "payload": write], ["call": "home:<T,alice>:tool", "sync": false, "payload": write],
                ]
                // bob's call starts at T,T: neither the nested nor the queued call may vouch for alice.
                let fromBob = try await s.steps("home:<T,alice>:tool", calls, token: bob)
                #expect(fromBob.status == 200, "\(fromBob.text)")
                let results = try #require(fromBob.json["results"]?.array)
                let nested = results[0]["data"]?["results"]?.array
                #expect(nested?.first?["rule"]?.string == "write rule", "\(fromBob.text)")
                let queued = try #require(results[1]["id"]?.string)
                let queuedRecord = try await s.finished(queued, token: bob)
                #expect(queuedRecord.json["state"]?.string == "finished")
                #expect(try await s.request(.GET, S.fs("home:<T,alice>:board"), token: alice).json["data"]?.string == "alice's")
                // alice starting at T,alice passes her integrity on to the calls her invocation makes.
                let fromAlice = try await s.steps("home:<T,alice>:tool", [calls[0]], token: alice, headers: ["X-Faasten-Label": "T,alice"])
                #expect(fromAlice.status == 200, "\(fromAlice.text)")
                #expect(try await s.request(.GET, S.fs("home:<T,alice>:board"), token: alice).json["data"]?.string == "written", "\(fromAlice.text)")
            }
        }

        static func form(_ boundary: String, _ fields: [String: String]) -> [UInt8] {
            var text = ""
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
            }
            text += "--\(boundary)--\r\n"
            return Array(text.utf8)
        }
    }
}
