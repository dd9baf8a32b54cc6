import Crypto
import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

extension AttackTests {
    /// Accepted work is never dropped: a 202 is a promise (a full queue is a 503 before
    /// anything is recorded), one principal's flood delays another's invocation by a
    /// bounded amount, a webhook delivery is answered truthfully however many copies race,
    /// and every result is recorded whole.
    @Suite("attack: accepted work", .serialized)
    struct AcceptedWorkTests {
        typealias S = ServedPlatform

        /// Sends `count` requests from `clients` concurrent clients; returns the replies.
        static func flood(_ count: Int, clients: Int, _ send: @escaping @Sendable (Int) async throws -> S.Reply) async throws -> [S.Reply] {
            try await withThrowingTaskGroup(of: [S.Reply].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var replies: [S.Reply] = []
                        var n = client
                        while n < count {
                            replies.append(try await send(n))
                            n += clients
                        }
                        return replies
                    }
                }
                var all: [S.Reply] = []
                for try await replies in group { all += replies }
                return all
            }
        }

        static func invocationRows(_ s: S) throws -> Int {
            try s.dump().split(separator: "\n").first { $0.hasPrefix("table invocations: ") }
                .flatMap { Int($0.split(separator: " ")[2]) } ?? 0
        }

        @Test func aFloodsAcceptedInvocationsAllRunAndAnotherUserIsServedMeanwhile() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                let bob = try await s.user("bob")
                try await s.deploy("toolkit", at: "home:<T,alice>:public", token: alice, label: "T,alice", ["privilege": "T", "invoker_clearance": "T"])
                try await s.deploy("toolkit", at: "~:own", token: bob, label: "T,bob", ["privilege": "bob"])
                // Warm both gates once.
                #expect(try await s.steps("home:<T,alice>:public", [], token: bob).status == 200)
                #expect(try await s.steps("~:own", [], token: bob).status == 200)
                try await Task.sleep(for: .milliseconds(100))  // their records are written within 25 ms
                let recordsBefore = try Self.invocationRows(s)

                let payload = [UInt8](try JSONSerialization.data(withJSONObject: ["steps": [["sleep": 0.3]]]))
                let flood = Task {
                    try await Self.flood(3000, clients: 32) { _ in
                        try await s.request(.POST, S.invoke("home:<T,alice>:public") + "?async=true", token: alice, body: payload)
                    }
                }
                // While alice floods, bob's invocations are served within a bound.
                try await Task.sleep(for: .milliseconds(1500))
                var latencies: [String: Duration] = [:]
                for (name, gate) in [("shared", "home:<T,alice>:public"), ("own", "~:own")] {
                    let started = ContinuousClock.now
                    let reply = try await s.steps(gate, [["print": "bob"]], token: bob)
                    latencies[name] = ContinuousClock.now - started
                    #expect(reply.status == 200, "\(name): \(reply.text)")
                }
                let replies = try await flood.value
                #expect(latencies["own"]! < .seconds(2), "bob's own gate took \(latencies["own"]!) during the flood")
                #expect(latencies["shared"]! < .seconds(3), "the shared gate took \(latencies["shared"]!) for bob during the flood")

                let accepted = replies.filter { $0.status == 202 }
                let refused = replies.filter { $0.status == 503 }
                #expect(accepted.count + refused.count == 3000, "\(Set(replies.map(\.status)))")
                #expect(accepted.count >= 250 && !refused.isEmpty, "\(accepted.count) accepted, \(refused.count) refused")
                #expect(refused.allSatisfy { $0.headers.first(name: "Retry-After") != nil })
                // Every refusal was made before anything was recorded; every 202 ran to completion.
                try await Task.sleep(for: .milliseconds(100))
                let recordsAfter = try Self.invocationRows(s)
                #expect(recordsAfter == recordsBefore + accepted.count + 2, "\(recordsBefore) records, \(accepted.count) accepted, \(recordsAfter) after")
                print("flood: \(accepted.count) accepted, \(refused.count) refused (503); bob's own gate \(latencies["own"]!), the shared gate \(latencies["shared"]!)")
                for reply in accepted {
                    let id = try #require(reply.json["id"]?.string)
                    let record = try await s.finished(id, token: alice, timeout: 120)
                    let outcome = record.json["outcome"]
                    #expect(outcome?["status"]?.string == "completed", "\(id): \(record.text)")
                }
            }
        }

        @Test func resultsAreRecordedWhole() async throws {
            try await S.with { s in
                let alice = try await s.user("alice")
                try await s.deploy("toolkit", at: "~:tool", token: alice, label: "T,alice", ["privilege": "alice", "declassify": "alice"])
                for size in [1 << 20, 4 << 20, 8 << 20] {
                    let body = [UInt8](try JSONSerialization.data(withJSONObject: ["result_bytes": size]))
                    let queued = try await s.request(.POST, S.invoke("~:tool") + "?async=true", token: alice, body: body)
                    let id = try #require(queued.json["id"]?.string, "\(queued.text)")
                    let record = try await s.finished(id, token: alice)
                    let outcome = try #require(record.json["outcome"], "\(record.text.prefix(300))")
                    #expect(outcome["status"]?.string == "completed")
                    #expect(outcome["body"]?.string?.utf8.count == size, "\(size) bytes recorded as \(outcome["body"]?.string?.utf8.count ?? -1)")
                }
                // One byte over the response limit fails with the reason; nothing is silently dropped.
                let over = [UInt8](try JSONSerialization.data(withJSONObject: ["result_bytes": (8 << 20) + 1]))
                let queued = try await s.request(.POST, S.invoke("~:tool") + "?async=true", token: alice, body: over)
                let record = try await s.finished(try #require(queued.json["id"]?.string), token: alice)
                let outcome = try #require(record.json["outcome"])
                #expect(outcome["status"]?.string == "failed" && outcome["error"]?.string?.contains("exceeds the limit") == true, "\(outcome.text)")
            }
        }

        static func sign(_ body: [UInt8], _ secret: String) -> String {
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
            return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        }

        @Test func concurrentCopiesOfADeliveryAreAnsweredTruthfullyEvenWithAFullQueue() async throws {
            try await S.with(["--max-queued", "1", "--max-queued-per-invoker", "1"]) { s in
                let alice = try await s.user("alice")
                try await s.deploy("toolkit", at: "~:slow", token: alice, label: "T,alice", ["privilege": "alice", "concurrency": 1])
                let trigger = try await s.request(.POST, "/v1/triggers", token: alice, json: ["name": "ci", "source": "github", "gate": "~:slow", "privilege": "alice"])
                let id = try #require(trigger.json["id"]?.string, "\(trigger.text)")
                let secret = try #require(trigger.json["secret"]?.string)
                let body = Array(#"{"steps": [{"sleep": 0.2}]}"#.utf8)
                let headers = ["X-Hub-Signature-256": Self.sign(body, secret), "X-GitHub-Event": "push", "X-GitHub-Delivery": "delivery-1"]

                // Fill the queue: one running, one waiting.
                let sleep = [UInt8](try JSONSerialization.data(withJSONObject: ["steps": [["sleep": 3]]]))
                #expect(try await s.request(.POST, S.invoke("~:slow") + "?async=true", token: alice, body: sleep).status == 202)
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await s.request(.POST, S.invoke("~:slow") + "?async=true", token: alice, body: sleep).status == 202)
                let full = try await s.request(.POST, S.invoke("~:slow") + "?async=true", token: alice, body: sleep)
                #expect(full.status == 503, "\(full.text)")

                // Eight copies while the queue is full: all 503, nothing recorded.
                let before = try s.dump()
                let refused = try await Self.flood(8, clients: 8) { _ in try await s.request(.POST, "/v1/hooks/\(id)", body: body, headers: headers) }
                #expect(refused.allSatisfy { $0.status == 503 }, "\(refused.map { "\($0.status) \($0.text)" })")
                #expect(try s.dump() == before)

                // Once the queue drains, eight copies: one 202, seven duplicates naming its invocation.
                try await Task.sleep(for: .seconds(7))
                let answered = try await Self.flood(8, clients: 8) { _ in try await s.request(.POST, "/v1/hooks/\(id)", body: body, headers: headers) }
                let first = answered.filter { $0.status == 202 }
                let duplicates = answered.filter { $0.status == 200 }
                #expect(first.count == 1 && duplicates.count == 7, "\(answered.map { "\($0.status) \($0.text)" })")
                let invocation = try #require(first.first?.json["invocation"]?.string)
                #expect(duplicates.allSatisfy { $0.json["duplicate"]?.bool == true && $0.json["invocation"]?.string == invocation })
                let deliveries = try await s.request(.GET, "/v1/triggers/\(id)/deliveries", token: alice).json["deliveries"]?.array
                #expect(deliveries?.count == 1 && deliveries?.first?["invocation"]?.string == invocation)
                #expect(try await s.finished(invocation, token: alice).json["state"]?.string == "finished")
            }
        }
    }
}
