import FaastenTestSupport
import Foundation
import JSONValues
import Processes
import Testing

/// `faasten fs mkgate | mksvc` and `faasten invoke`, and the examples' install scripts.
@Suite("faasten invoke")
struct InvokeCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Sandboxes run without cgroup limits where this process may not create cgroups.
    static var limits: [String] { getuid() == 0 ? [] : ["--no-limits"] }

    static func json(_ text: String) throws -> [String: JSONValue] {
        try jsonObject(Array(text.utf8))
    }

    @Test func aGateMadeFromADirectoryIsInvokedAndItsResultReleasedOnlyToItsReader() throws {
        let (op, temporary) = try FSCommandTests.sqlite()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        _ = try op.fs(["init"])
        _ = try op.fs(["adduser", "alice"])
        _ = try op.fs(["adduser", "bob"])
        let toolkit = Self.repository + "/Tests/Fixtures/functions/toolkit"
        let made = try op.fs([
            "--as", "alice", "mkgate", "~:tool", "--image", "@" + toolkit, "--privilege", "alice", "--declassify", "alice", "--timeout-ms", "5000",
        ])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try op.fs(["--as", "alice", "ls", "~"]).stdout.contains("tool.image\tblob"))
        _ = try op.fs(["--as", "alice", "mkfile", "~:diary", "--label", "alice,alice"])
        _ = try op.fs(["--as", "alice", "write", "~:diary"], input: "dear diary")

        func invoke(_ arguments: [String], input: String = "") throws -> BuiltProducts.Result {
            try BuiltProducts.run("faasten", ["invoke", "--store", op.store] + Self.limits + arguments, input: Data(input.utf8))
        }
        let steps = #"{"steps": [{"read": "home:<alice,alice>:diary"}, {"print": "read it"}]}"#
        let alice = try invoke(["home:<alice,alice>:tool", "--as", "alice", "--json", "--logs"], input: steps)
        #expect(alice.status == 0, "\(alice.stderr)")
        let answer = try Self.json(alice.stdout)
        #expect(answer["status"]?.int == 200)
        #expect(answer["label"]?.string == "T,alice")
        #expect(answer["logs"]?.string == "read it\n")
        let body = try Self.json(try #require(answer["body"]?.string))
        #expect(body["results"] == .array(["dear diary", "ok"]))

        // The plain form: the body on stdout, the status and label on stderr.
        let plain = try invoke(["home:<alice,alice>:tool", "--as", "alice", "--payload", #"{"steps": []}"#])
        #expect(plain.status == 0)
        #expect(plain.stderr.hasPrefix("status 200, label T,alice"))
        #expect(try Self.json(plain.stdout)["invoker"]?.string == "alice")

        // A gate whose result keeps alice's secrecy: bob is told why, and shown nothing.
        _ = try op.fs([
            "--as", "alice", "mkgate", "~:keeps", "--image", "home:<alice,alice>:tool.image", "--privilege", "alice", "--invoker-clearance", "T",
        ])
        let bob = try invoke(["home:<alice,alice>:keeps", "--as", "bob", "--json"], input: steps)
        #expect(bob.status == 1)
        let refusal = try Self.json(bob.stdout)
        #expect(refusal["body"] == nil)
        #expect(refusal["error"]?["rule"]?.string == "release rule")

        // With mkgate's defaults, only the privilege's holders may invoke it, and nothing is declassified.
        let privateGate = try op.fs([
            "--as", "alice", "mkgate", "home:<T,alice>:private", "--image", "home:<alice,alice>:tool.image", "--privilege", "alice", "--label", "T,alice",
        ])
        #expect(privateGate.status == 0, "\(privateGate.stderr)")
        let stranger = try invoke(["home:<T,alice>:private", "--as", "bob", "--payload", #"{"steps": []}"#])
        #expect(stranger.status == 1 && stranger.stderr.contains("invoke rule"), "\(stranger.stderr)")
        let owner = try invoke(["home:<T,alice>:private", "--as", "alice", "--payload", #"{"steps": [{"read": "home:<alice,alice>:diary"}]}"#])
        #expect(owner.status == 0 && owner.stderr.hasPrefix("status 200, label alice,T"), "\(owner.stderr)")
    }

    @Test func badGatesAndRefusedInvocationsSayWhy() throws {
        let (op, temporary) = try FSCommandTests.sqlite()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        _ = try op.fs(["init"])
        _ = try op.fs(["adduser", "alice"])
        let toolkit = Self.repository + "/Tests/Fixtures/functions/toolkit"
        // A privilege alice does not own.
        let stolen = try op.fs(["--as", "alice", "mkgate", "~:g", "--image", "@" + toolkit, "--privilege", "bob"])
        #expect(stolen.status == 1)
        #expect(stolen.stderr.contains("delegation rule"))
        // Not a function directory; no image; a bad privilege.
        let empty = try op.fs(["--as", "alice", "mkgate", "~:g", "--image", "@" + temporary, "--privilege", "alice"])
        #expect(empty.status == 2)
        #expect(empty.stderr.contains("has no workload.py"))
        #expect(try op.fs(["--as", "alice", "mkgate", "~:g", "--privilege", "alice"]).stderr.contains("exactly one of --image and --redirect"))
        #expect(try op.fs(["--as", "alice", "mkgate", "~:g", "--image", "@" + toolkit, "--privilege", "alice,"]).status == 2)
        #expect(try op.fs(["--as", "alice", "ls", "~"]).stdout.isEmpty)
        // A gate only alice may invoke.
        _ = try op.fs(["--as", "alice", "mkgate", "home:<T,T>:g", "--image", "@" + toolkit, "--privilege", "alice", "--label", "T,T", "--invoker-clearance", "alice"])
        let refused = try BuiltProducts.run(
            "faasten", ["invoke", "--store", op.store, "home:<T,T>:g", "--as", "bob", "--payload", "{}"] + Self.limits)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refused by the invoke rule"))
        // Services: made with a template; a bad verb is refused before anything is stored.
        let service = try op.fs([
            "--as", "alice", "mksvc", "home:<T,T>:weather", "--url", "https://example.org/{city}", "--privilege", "alice",
            "--taint", "T,T", "--label", "T,T", "--header", "X-Key: secret",
        ])
        #expect(service.status == 0, "\(service.stderr)")
        let badVerb = try op.fs(["--as", "alice", "mksvc", "home:<T,T>:w2", "--url", "https://example.org", "--privilege", "alice", "--taint", "T,T", "--verb", "FETCH"])
        #expect(badVerb.status == 2)
        #expect(badVerb.stderr.contains("--verb"))
    }

    /// Runs an example's install script with the built faasten on a new data directory.
    func install(_ example: String) throws -> (status: Int32, output: String) {
        var template = Array((NSTemporaryDirectory() + "faasten-example-XXXXXX").utf8CString)
        _ = mkdtemp(&template)
        let data = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { try? FileManager.default.removeItem(atPath: data) }
        var environment = ProcessInfo.processInfo.environment
        environment["FAASTEN"] = try BuiltProducts.path("faasten")
        let result = try ChildProcess.run(
            "/bin/bash", [Self.repository + "/examples/\(example)/install.sh", data + "/data"], environment: environment)
        let status: Int32 = if case let .exited(code) = result.status { code } else { 128 }
        return (status, result.output + result.errors)
    }

    @Test func thePhotoAppInstallsAndRunsWithOneCommand() throws {
        let (status, output) = try install("photos")
        #expect(status == 0, "\(output)")
        #expect(output.contains("The photo app works."))
        #expect(output.contains(#""size": [64, 48]"#))
    }

    @Test func theJavaScriptWordCountAppInstallsAndRunsWithOneCommand() throws {
        let (status, output) = try install("wordcount")
        #expect(status == 0, "\(output)")
        #expect(output.contains(#""saved":"home:<alice,wc>:sonnet.txt.counts","label":"alice,wc""#))
        #expect(output.contains("the result is labeled alice,wc and privilege bob does not satisfy its secrecy alice"))
    }

    @Test func theSocialAppInstallsAndRunsWithOneCommand() throws {
        let (status, output) = try install("social")
        #expect(status == 0, "\(output)")
        #expect(output.contains(#"{"user": "bob", "followers": [{"name": "carol", "vouched_by": "carol/social/follow"}]}"#))
    }
}
