import FaastenTestSupport
import Foundation
import Testing

/// `faasten run` on a fresh data directory, as the README shows it.
@Suite("faasten run")
struct RunCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/functions").path

    @Test func responsesCarryTheirLabelAndAreReleasedOnlyToTheirReader() throws {
        let (op, temporary) = try FSCommandTests.sqlite()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        _ = try op.fs(["init"])
        _ = try op.fs(["adduser", "alice"])
        _ = try op.fs(["adduser", "bob"])
        _ = try op.fs(["--as", "alice", "mkfile", "~:diary", "--label", "alice,alice"])
        _ = try op.fs(["--as", "alice", "write", "~:diary"], input: "dear diary")

        let requests = """
            {"path": "home:<alice,alice>:diary"}
            not json
            {"path": "home:<alice,alice>:missing"}

            """
        let alice = try BuiltProducts.run(
            "faasten", ["run", Self.fixtures + "/reader", "--store", op.store, "--as", "alice"], input: Data(requests.utf8))
        #expect(alice.status == 0, "\(alice.stderr)")
        let lines = alice.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 3)
        #expect(lines[0]?["body"] as? String == "dear diary")
        #expect(lines[0]?["status"] as? Int == 200)
        #expect(lines[0]?["label"] as? String == "T,alice")  // downgraded with alice's privilege
        #expect(lines[1]?["error"] as? String == "bad-request")
        #expect(lines[2]?["status"] as? Int == 500)  // NotFoundError raised in the function

        // bob's run reads alice's diary; the result is alice's, so bob sees none of it.
        let bob = try BuiltProducts.run(
            "faasten", ["run", Self.fixtures + "/reader", "--store", op.store, "--as", "bob"],
            input: Data(#"{"path": "home:<alice,alice>:diary"}"#.utf8 + [0x0A]))
        #expect(bob.status == 0)
        #expect(!bob.stdout.contains("dear diary"))
        let refusal = try JSONSerialization.jsonObject(with: Data(bob.stdout.utf8)) as? [String: Any]
        #expect((refusal?["refused"] as? String)?.contains("release rule") == true)
        #expect(refusal?["label"] as? String == "alice,bob")
    }

    @Test func aWarmSandboxIsNotReusedBelowWhatItSaw() throws {
        let (op, temporary) = try FSCommandTests.sqlite()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        _ = try op.fs(["init"])
        _ = try op.fs(["adduser", "alice"])
        _ = try op.fs(["--as", "alice", "mkfile", "~:diary", "--label", "alice,alice"])
        _ = try op.fs(["--as", "alice", "write", "~:diary"], input: "dear diary")
        _ = try op.fs(["--as", "F", "mkfile", "board", "--label", "T,T"])
        _ = try op.fs(["--as", "F", "write", "board"], input: "public")
        let requests = """
            {"remember": "board"}
            {"recall": true}
            {"remember": "home:<alice,alice>:diary"}
            {"recall": true}

            """
        let result = try BuiltProducts.run(
            "faasten", ["run", Self.fixtures + "/stateful", "--store", op.store, "--as", "alice"], input: Data(requests.utf8))
        let bodies = result.stdout.split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let outer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let body = outer["body"] as? String
            else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        }
        try #require(bodies.count == 4, "\(result.stdout)\(result.stderr)")
        // Public data may stay in a warm sandbox...
        #expect(bodies[1]["seen"] as? [String] == ["public"])
        // ...but after reading alice's diary (label alice,T) the next invocation, starting
        // at T,T, gets a fresh sandbox: the diary does not come along.
        #expect(bodies[2]["label"] as? String == "alice,T")
        #expect(bodies[3]["seen"] as? [String] == [])
    }

    @Test func aMissingFunctionIsAnError() throws {
        let result = try BuiltProducts.run("faasten", ["run", "/nonexistent", "--data", "/tmp/x", "--as", "T"])
        #expect(result.status == 2 && result.stderr.contains("workload.py"))
    }
}
