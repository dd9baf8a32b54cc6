import Crypto
import FaastenTestSupport
import Foundation
import JSONValues
import NIOHTTP1
import Testing

@testable import Gateway

/// Webhooks and schedules against a real server: real GitHub payloads with signatures
/// computed here; every refusal starts nothing; schedules fire once per due tick, also
/// after downtime and across a restart.
@Suite(.serialized) struct TriggerTests {
    typealias H = GatewayHarness

    static func payload(_ name: String) throws -> [UInt8] {
        let path = TestSandboxes.repository + "/Tests/Fixtures/github-webhooks/" + name
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func sign(_ body: [UInt8], _ secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// alice's gate `hook` (the hookecho fixture, privilege alice, declassifying nothing,
    /// invocable by alice/ci) and a trigger of hers that invokes it as alice/ci, starting
    /// at alice,T.
    static func setUp(_ h: H, source: String, extra: [String: Any] = [:]) async throws -> (alice: String, trigger: [String: JSONValue]) {
        let alice = try await h.user("alice")
        #expect(
            try await h.deploy(
                "hookecho", at: "~:hook", token: alice, privilege: "alice", label: "T,alice", declassify: "T", invokerClearance: "alice/ci"
            ).status == 201)
        var spec: [String: Any] = ["name": "ci", "source": source, "gate": "~:hook", "privilege": "alice/ci", "start_label": "alice,T"]
        spec.merge(extra) { _, new in new }
        let created = try await h.request(.POST, "/v1/triggers", token: alice, json: spec)
        #expect(created.status == 201, "\(created.text)")
        return (alice, created.json)
    }

    static func deliveries(_ h: H, _ id: String, _ token: String) async throws -> [JSONValue] {
        try await h.request(.GET, "/v1/triggers/\(id)/deliveries", token: token).json["deliveries"]?.array ?? []
    }

    static func finished(_ h: H, _ id: String, _ token: String) async throws -> H.Reply {
        for _ in 0..<150 {
            let record = try await h.request(.GET, "/v1/invocations/\(id)", token: token)
            if record.json["state"]?.string == "finished" { return record }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await h.request(.GET, "/v1/invocations/\(id)", token: token)
    }

    @Test func githubEventsRunWithTheTriggersPrivilege() async throws {
        try await H.with { h in
            let (alice, trigger) = try await Self.setUp(h, source: "github")
            let id = try #require(trigger["id"]?.string)
            let secret = try #require(trigger["secret"]?.string)
            #expect(trigger["hook_url"]?.string == "/v1/hooks/\(id)")
            let bob = try await h.user("bob")

            for (file, event) in [
                ("push-payload.json", "push"), ("pull_request-opened.payload.json", "pull_request"),
                ("issues-opened.payload.json", "issues"), ("release-published.payload.json", "release"),
            ] {
                let body = try Self.payload(file)
                let delivery = UUID().uuidString
                let reply = try await h.request(
                    .POST, "/v1/hooks/\(id)", body: body,
                    headers: [
                        "X-Hub-Signature-256": Self.sign(body, secret), "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                        "Content-Type": "application/json",
                    ])
                #expect(reply.status == 202, "\(event): \(reply.text)")
                let invocation = try #require(reply.json["invocation"]?.string)
                let record = try await Self.finished(h, invocation, alice)
                // Invoked as alice/ci, starting at alice,T: the output is alice's.
                #expect(record.json["invoker"]?.string == "alice/ci")
                #expect((record.json["result_label"]?.string)?.hasPrefix("alice,") == true, "\(record.text)")
                let outcome = try #require(record.json["outcome"])
                let answer = try JSONValue(decoding: (outcome["body"]?.string ?? "").utf8)
                #expect(answer["event"]?.string == event && answer["delivery"]?.string == delivery)
                #expect(answer["repository"]?.string == "Codertocat/Hello-World", "\(answer.text)")
                #expect(answer["invoker"]?.string == "alice/ci")
                // bob may not see what alice's trigger started.
                #expect(try await h.request(.GET, "/v1/invocations/\(invocation)", token: bob).status == 404)
            }

            // ping is answered without an invocation.
            let ping = try Self.payload("ping-payload.json")
            let pong = try await h.request(
                .POST, "/v1/hooks/\(id)", body: ping,
                headers: ["X-Hub-Signature-256": Self.sign(ping, secret), "X-GitHub-Event": "ping", "X-GitHub-Delivery": "ping-1"])
            #expect(pong.status == 200 && pong.json["pong"]?.bool == true)
            let listed = try await Self.deliveries(h, id, alice)
            #expect(listed.count == 5)
            #expect(listed.filter { $0["outcome"]?.string == "completed" }.count == 4, "\(JSONValue.array(listed).text)")
            #expect(listed.contains { $0["event"]?.string == "ping" && $0["invocation"] == .null })
            // Only the owner sees the trigger.
            #expect(try await h.request(.GET, "/v1/triggers/\(id)/deliveries", token: bob).status == 404)
            #expect(try await h.request(.GET, "/v1/triggers/\(id)", token: alice).json["secret"] == nil)
        }
    }

    @Test func everyRefusalIsA4xxAndStartsNothing() async throws {
        try await H.with { h in
            let (alice, trigger) = try await Self.setUp(h, source: "github")
            let id = try #require(trigger["id"]?.string)
            let secret = try #require(trigger["secret"]?.string)
            let body = try Self.payload("push-payload.json")
            let good = ["X-Hub-Signature-256": Self.sign(body, secret), "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"]
            let first = try await h.request(.POST, "/v1/hooks/\(id)", body: body, headers: good)
            #expect(first.status == 202)

            var tampered = body
            tampered[10] ^= 1
            var wrongKey = good
            wrongKey["X-Hub-Signature-256"] = Self.sign(body, "not-the-secret-at-all")
            var noEvent = good
            noEvent["X-GitHub-Event"] = nil
            var noSignature = good
            noSignature["X-Hub-Signature-256"] = nil
            var badHex = good
            badHex["X-Hub-Signature-256"] = "sha256=zz"
            let refusals: [(String, [UInt8], [String: String], Int)] = [
                ("tampered body", tampered, good.merging(["X-GitHub-Delivery": "d-2"]) { $1 }, 401),
                ("other key", body, wrongKey.merging(["X-GitHub-Delivery": "d-3"]) { $1 }, 401),
                ("no event", body, noEvent, 400),
                ("no signature", body, noSignature, 401),
                ("bad hex", body, badHex, 401),
                ("oversized", [UInt8](repeating: 0x20, count: (5 << 20) + 1), good, 413),
            ]
            for (what, bytes, headers, status) in refusals {
                let reply = try await h.request(.POST, "/v1/hooks/\(id)", body: bytes, headers: headers)
                #expect(reply.status == status && reply.json["reason"] != nil, "\(what): \(reply.status) \(reply.text)")
            }
            #expect(try await h.request(.POST, "/v1/hooks/nope", body: body, headers: good).status == 404)
            // A replayed delivery is acknowledged, not run again.
            let replay = try await h.request(.POST, "/v1/hooks/\(id)", body: body, headers: good)
            #expect(replay.status == 200 && replay.json["duplicate"]?.bool == true)
            #expect(replay.json["invocation"]?.string == first.json["invocation"]?.string)
            #expect(try await Self.deliveries(h, id, alice).count == 1)

            // Creating: only privileges the creator owns, valid schedules and sources.
            let bob = try await h.user("bob")
            for (spec, status) in [
                (["name": "x", "source": "github", "gate": "~:hook", "privilege": "alice"], 403),
                (["name": "x", "source": "schedule", "gate": "~:hook", "privilege": "bob", "schedule": "61 * * * *"], 400),
                (["name": "x", "source": "schedule", "gate": "~:hook", "privilege": "bob", "schedule": "* * * * *", "timezone": "Mars/Base"], 400),
                (["name": "x", "source": "ftp", "gate": "~:hook", "privilege": "bob"], 400),
                (["name": "X!", "source": "github", "gate": "~:hook", "privilege": "bob"], 400),
            ] {
                let reply = try await h.request(.POST, "/v1/triggers", token: bob, json: spec)
                #expect(reply.status == status, "\(spec): \(reply.text)")
            }
            #expect(try await h.request(.POST, "/v1/triggers", json: ["name": "x", "source": "github", "gate": "~:hook", "privilege": "T"]).status == 401)
            // A token alice delegated away neither makes nor sees her triggers.
            let weaker = try #require(
                try await h.request(.POST, "/v1/delegate", token: alice, json: ["privilege": "alice/ci"]).json["token"]?.string)
            let made = try await h.request(
                .POST, "/v1/triggers", token: weaker, json: ["name": "y", "source": "github", "gate": "~:hook", "privilege": "alice/ci"])
            #expect(made.status == 403, "\(made.text)")
            #expect(try await h.request(.GET, "/v1/triggers/\(id)", token: weaker).status == 404)
            #expect(try await h.request(.DELETE, "/v1/triggers/\(id)", token: weaker).status == 404)
        }
    }

    @Test func genericWebhooksNeedAFreshSignedTimestamp() async throws {
        try await H.with { h in
            let (alice, trigger) = try await Self.setUp(h, source: "generic", extra: ["secret": "a-shared-secret-of-ours"])
            let id = try #require(trigger["id"]?.string)
            let body = Array(#"{"build": 42}"#.utf8)
            func headers(_ stamp: Int, delivery: String) -> [String: String] {
                let signature = Self.sign(Array("\(stamp).".utf8) + body, "a-shared-secret-of-ours")
                return ["X-Faasten-Timestamp": String(stamp), "X-Faasten-Signature": signature, "X-Faasten-Event": "build", "X-Faasten-Delivery": delivery]
            }
            let now = Int(Date().timeIntervalSince1970)
            let fresh = try await h.request(.POST, "/v1/hooks/\(id)", body: body, headers: headers(now, delivery: "b-1"))
            #expect(fresh.status == 202, "\(fresh.text)")
            let stale = try await h.request(.POST, "/v1/hooks/\(id)", body: body, headers: headers(now - 3600, delivery: "b-2"))
            #expect(stale.status == 401 && (stale.json["reason"]?.string)?.contains("timestamp") == true)
            var moved = headers(now, delivery: "b-3")
            moved["X-Faasten-Timestamp"] = String(now + 1)  // the signature covers the timestamp
            #expect(try await h.request(.POST, "/v1/hooks/\(id)", body: body, headers: moved).status == 401)
            #expect(try await h.request(.POST, "/v1/hooks/\(id)", body: body).status == 401)  // unsigned
            #expect(try await Self.deliveries(h, id, alice).count == 1)
        }
    }

    @Test func schedulesFireOncePerTickAfterDowntimeAndAcrossRestarts() async throws {
        try await H.with { h in
            let (alice, trigger) = try await Self.setUp(
                h, source: "schedule", extra: ["schedule": "*/5 * * * *", "timezone": "Europe/Paris"])
            let id = try #require(trigger["id"]?.string)
            let next = try #require(trigger["next_run"]?.number)
            #expect(Int(next) % 300 == 0 && next > Date().timeIntervalSince1970)
            #expect(try await h.request(.POST, "/v1/hooks/\(id)", body: []).status == 409)

            await h.gateway.triggers.tick(now: Date(timeIntervalSince1970: next - 1))
            #expect(try await Self.deliveries(h, id, alice).isEmpty)
            await h.gateway.triggers.tick(now: Date(timeIntervalSince1970: next))
            await h.gateway.triggers.tick(now: Date(timeIntervalSince1970: next + 10))
            #expect(try await Self.deliveries(h, id, alice).count == 1)

            // Downtime of an hour: twelve missed ticks run once.
            await h.gateway.triggers.tick(now: Date(timeIntervalSince1970: next + 3600 + 30))
            let afterDowntime = try await Self.deliveries(h, id, alice)
            #expect(afterDowntime.count == 2)
            #expect(afterDowntime.first?["event"]?.string == "schedule")

            // A restarted server (a new Triggers over the same store) does not run it again.
            let restarted = Triggers(fileSystem: h.gateway.fileSystem, dispatcher: h.gateway.dispatcher, audit: h.gateway.audit, logger: h.gateway.logger)
            await restarted.tick(now: Date(timeIntervalSince1970: next + 3600 + 30))
            #expect(try await Self.deliveries(h, id, alice).count == 2)
            let shown = try await h.request(.GET, "/v1/triggers/\(id)", token: alice).json
            #expect(shown["next_run"]?.number == next + 3600 + 300)

            // The scheduled run was invoked as the trigger's privilege.
            let invocation = try #require(afterDowntime.last?["invocation"]?.string)
            let record = try await Self.finished(h, invocation, alice)
            #expect(record.json["invoker"]?.string == "alice/ci")

            #expect(try await h.request(.DELETE, "/v1/triggers/\(id)", token: alice).status == 204)
            #expect(try await h.request(.GET, "/v1/triggers/\(id)", token: alice).status == 404)
            let remaining = try await h.request(.GET, "/v1/triggers", token: alice).json["triggers"]?.array
            #expect(remaining?.isEmpty == true)
        }
    }
}

/// Cron expressions: fields, names, steps, the day rule, and time zones.
struct CronScheduleTests {
    static func at(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    @Test func nextTicks() throws {
        let cases: [(String, String, String, String)] = [
            ("*/15 * * * *", "UTC", "2026-01-01T10:07:00Z", "2026-01-01T10:15:00Z"),
            ("0 9 * * mon-fri", "UTC", "2026-11-21T12:00:00Z", "2026-11-23T09:00:00Z"),  // Saturday → Monday
            ("30 2 1 jan *", "UTC", "2026-03-01T00:00:00Z", "2027-01-01T02:30:00Z"),
            ("0 9 * * *", "Europe/Paris", "2026-07-01T00:00:00Z", "2026-07-01T07:00:00Z"),  // CEST, UTC+2
            ("0 9 * * *", "Europe/Paris", "2026-12-01T00:00:00Z", "2026-12-01T08:00:00Z"),  // CET, UTC+1
            ("0 0 13 * 5", "UTC", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"),  // either day field matches
            ("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"),
        ]
        for (text, zone, after, expected) in cases {
            let schedule = try CronSchedule(text, timeZone: zone)
            #expect(schedule.next(after: Self.at(after)) == Self.at(expected), "\(text) in \(zone) after \(after)")
        }
        #expect(try CronSchedule("0 0 31 2 *").next(after: Self.at("2026-01-01T00:00:00Z")) == nil)
    }

    @Test(arguments: ["", "* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "5-1 * * * *", "a b c d e", "1,,2 * * * *", "* * * * 8"])
    func badExpressionsAreRefusedWithAReason(_ text: String) {
        #expect(throws: CronError.self) { try CronSchedule(text) }
    }
}
