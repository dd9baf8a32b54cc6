import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

extension AttackTests {
    /// No one can exhaust a worker: every label the monitor computes stays within the label
    /// limits (refused as `label too large` before the work explodes), and an invocation's
    /// deadline holds whatever the monitor is doing, a nested synchronous call included.
    @Suite("attack: bounded labels and deadlines", .serialized)
    struct BoundedWorkTests {
        typealias S = ServedPlatform

        @Test func anExplodingTaintIsRefusedAtOnceAndTheWorkerKeepsServing() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                // A privilege of 40 clauses: endorsing with it gives an integrity of 40 clauses, and
                // each taint with another 40-clause integrity would multiply the clauses by 40.
                let privilege = (1...40).map { "alice/p\($0)" }.joined(separator: "&")
                try await s.deploy(
                    "toolkit", at: "~:tool", token: alice, label: "T,alice", ["privilege": privilege, "declassify": privilege, "timeout_ms": 5000])
                let taints: [[String: Any]] = (1...3).map { round in
                    ["taint": "T," + (1...40).map { "alice/r\(round)q\($0)" }.joined(separator: "&")]
                }
                let started = ContinuousClock.now
                let reply = try await s.steps("~:tool", [["endorse": NSNull()]] + taints + [["print": "still running"]], token: alice)
                let elapsed = ContinuousClock.now - started
                #expect(reply.status == 200, "\(reply.text)")
                #expect(elapsed < .seconds(5), "the taints took \(elapsed)")
                let results = try #require(reply.json["results"]?.array)
                for result in results[1...3] {
                    let failure = result
                    #expect(failure["error"]?.string == "LIMIT_EXCEEDED", "\(result.text)")
                    #expect(failure["message"]?.string?.contains("label too large") == true, "\(result.text)")
                }
                // The refused taints changed nothing: the label is the endorsed one.
                #expect((reply.json["label"]?.string)?.contains("alice/p40") == true)
                #expect(results[4].string == "ok")
                #expect(try await s.steps("~:tool", [["print": "next"]], token: alice).status == 200)
            }
        }

        @Test func aCallersDeadlineHoldsWhileItWaitsOnANestedCall() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                try await s.deploy("toolkit", at: "~:caller", token: alice, label: "T,alice", ["privilege": "alice", "timeout_ms": 1500])
                try await s.deploy("toolkit", at: "~:sleeper", token: alice, label: "T,alice", ["privilege": "alice", "timeout_ms": 6000])
                let started = ContinuousClock.now
                let reply = try await s.steps(
                    "~:caller", [["call": "home:<alice,alice>:sleeper", "payload": ["steps": [["sleep": 6]]]]], token: alice)
                let elapsed = ContinuousClock.now - started
                #expect(reply.status == 504, "\(reply.status) \(reply.text)")
                #expect(elapsed < .milliseconds(3500), "a 1.5 s caller answered after \(elapsed)")
                // The worker goes on serving.
                #expect(try await s.steps("~:caller", [["print": "next"]], token: alice).status == 200)
            }
        }
    }
}
