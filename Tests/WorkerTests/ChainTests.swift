import FaastenTestSupport
import FileSystem
import Foundation
import Labels
import Monitor
import Store
import Testing
import Worker

/// Functions invoking functions: labels carried across, privileges per gate, depth,
/// nested calls when the pool is full, and asynchronous calls.
@Suite(.serialized) struct ChainTests {
    private static let chain = "home:<alice,alice>:chain"

    /// alice's recursive gate, a public gate of alice's (privilege T), and her secret.
    private static func setUp(_ harness: EngineHarness, chainConcurrency: Int = 0) async throws {
        try await harness.install("toolkit", at: "~:chain", as: "alice", privilege: "alice", concurrency: chainConcurrency)
        try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
        try await harness.install("toolkit", at: "home:<T,T>:apps:tool", as: "alice", privilege: "T", label: "T,T")
        try await harness.install("toolkit", at: "home:<T,T>:apps:declassifier", as: "alice", privilege: "alice", label: "T,T")
        try await harness.createFile("home:<alice,alice>:secret", "alice's secret", label: "alice,alice", as: "alice")
    }

    /// The depth reached by a `recurse` result, and the first error on the way down.
    private static func depth(of result: [String: Any]) -> (levels: Int, error: [String: Any]?, sandboxes: Set<String>) {
        var levels = 0
        var sandboxes: Set<String> = []
        var current: [String: Any]? = result
        while let level = current {
            if level["error"] != nil { return (levels, level, sandboxes) }
            if let sandbox = level["sandbox"] as? String { sandboxes.insert(sandbox) }
            current = level["inner"] as? [String: Any]
            if current != nil { levels += 1 }
        }
        return (levels, nil, sandboxes)
    }

    @Test func aChainOfDepthTenRunsInTenPlusOneSandboxes() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            let body = try await harness.invoke(Self.chain, as: "alice", steps: [["recurse": Self.chain, "depth": 10]]).json()
            let first = try #require((body["results"] as? [[String: Any]])?.first)
            let (levels, error, sandboxes) = Self.depth(of: first)
            #expect(error == nil)
            #expect(levels == 10)
            #expect(sandboxes.count == 11)
            await harness.engine.flushRecords()
        }
    }

    @Test func chainsDeeperThanTheLimitFailAtTheLimitWithAReason() async throws {
        var configuration = EngineHarness.testing
        configuration.maxChainDepth = 3
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness)
            let body = try await harness.invoke(Self.chain, as: "alice", steps: [["recurse": Self.chain, "depth": 6]]).json()
            let (levels, error, _) = Self.depth(of: try #require((body["results"] as? [[String: Any]])?.first))
            #expect(levels == 3)
            #expect(error?["error"] as? String == "LIMIT_EXCEEDED")
            #expect((error?["message"] as? String)?.contains("gates in a chain of calls") == true)
        }
    }

    @Test func theCalleeStartsAtTheCallersLabelWithItsOwnGatesPrivilege() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            // bob runs the public gate; it reads nothing secret and calls the public tool,
            // then reads alice's secret (tainting itself) and calls it again.
            try await harness.createFile("home:<bob,bob>:note", "bob's note", label: "bob,bob", as: "bob")
            let body = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "bob",
                steps: [
                    ["call": "home:<T,T>:apps:tool", "payload": [String: Any]()],
                    ["read": "home:<bob,bob>:note"],
                    ["call": "home:<T,T>:apps:tool", "payload": [String: Any]()],
                ]
            ).json()
            let results = try #require(body["results"] as? [Any])
            let before = try #require((results[0] as? [String: Any])?["data"] as? [String: Any])
            let after = try #require((results[2] as? [String: Any])?["data"] as? [String: Any])
            #expect(before["label"] as? String == "T,T")
            #expect(after["label"] as? String == "bob,T")
            // The callee sees the caller's privilege as its invoker and runs with its gate's.
            #expect(after["invoker"] as? String == "T")
            #expect(after["privilege"] as? String == "T")
        }
    }

    @Test func aSynchronousResultTaintsTheCallerUnlessTheCalleeDeclassifiedIt() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            let secretCall: [String: Any] = ["steps": [["read": "home:<alice,alice>:secret"]]]
            // Through the public tool (privilege T) the secret comes back labeled alice: the caller is tainted.
            let tainted = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "bob", steps: [["call": "home:<T,T>:apps:tool", "payload": secretCall]]
            ).json()
            let taintedCall = try #require((tainted["results"] as? [[String: Any]])?.first)
            #expect(taintedCall["label"] as? String == "alice,T")
            #expect(tainted["label"] as? String == "alice,T")
            // Through alice's declassifier (privilege alice) it comes back public.
            let declassified = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "bob", steps: [["call": "home:<T,T>:apps:declassifier", "payload": secretCall]]
            ).json()
            let call = try #require((declassified["results"] as? [[String: Any]])?.first)
            #expect(((call["data"] as? [String: Any])?["results"] as? [String])?.first == "alice's secret")
            #expect(call["label"] as? String == "T,T")
        }
    }

    @Test func aFunctionMayOnlyInvokeGatesItsPrivilegeIsClearedFor() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            try await harness.install(
                "toolkit", at: "home:<T,T>:apps:alices", as: "alice", privilege: "alice", label: "T,T", invokerClearance: "alice")
            // The public tool runs with privilege T: it may not invoke a gate that needs alice.
            let body = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "alice", steps: [["call": "home:<T,T>:apps:alices", "payload": [String: Any]()]]
            ).json()
            let error = try #require((body["results"] as? [[String: Any]])?.first)
            #expect(error["error"] as? String == "REFUSED")
            #expect(error["rule"] as? String == "invoke rule")
            // alice's own gate may.
            let allowed = try await harness.invoke(
                Self.chain, as: "alice", steps: [["call": "home:<T,T>:apps:alices", "payload": [String: Any]()]]
            ).json()
            #expect(((allowed["results"] as? [[String: Any]])?.first)?["status"] as? Int == 200)
        }
    }

    @Test func nestedCallsNeverWaitForSlotsTheirCallersHold() async throws {
        var configuration = EngineHarness.testing
        configuration.memoryBudgetMB = 256  // two sandboxes
        configuration.nestedOvercommitMB = 512  // four more for nested calls
        try await EngineHarness.with(configuration) { harness in
            // One sandbox at a time for the gate: nested calls are not held to that either.
            try await Self.setUp(harness, chainConcurrency: 2)
            let worker = harness.engine
            let payload = [UInt8](try JSONSerialization.data(withJSONObject: ["steps": [["recurse": Self.chain, "depth": 2]]]))
            let request = InvocationRequest(target: .path(try path(Self.chain)), invoker: try Privilege(parsing: "alice"), payload: payload)
            let started = ContinuousClock.now
            async let first = worker.invoke(request)
            async let second = worker.invoke(request)
            for result in await [first, second] {
                let body = try result.json()
                let (levels, error, _) = Self.depth(of: try #require((body["results"] as? [[String: Any]])?.first))
                #expect(error == nil)
                #expect(levels == 2)
            }
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func nestedCallsBeyondTheAllowanceFailAtOnceInsteadOfHanging() async throws {
        var configuration = EngineHarness.testing
        configuration.memoryBudgetMB = 128
        configuration.nestedOvercommitMB = 128
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness)
            let started = ContinuousClock.now
            let body = try await harness.invoke(Self.chain, as: "alice", steps: [["recurse": Self.chain, "depth": 3]]).json()
            let (levels, error, _) = Self.depth(of: try #require((body["results"] as? [[String: Any]])?.first))
            #expect(levels == 1)
            #expect(error?["error"] as? String == "UNAVAILABLE")
            #expect((error?["message"] as? String)?.contains("no room for a nested call") == true)
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func anAsynchronousCallReturnsAnIdAndTaintsNothing() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            let secretCall: [String: Any] = ["steps": [["read": "home:<alice,alice>:secret"], ["print": "async ran"]]]
            let body = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "bob",
                steps: [["call": "home:<T,T>:apps:tool", "sync": false, "payload": secretCall]]
            ).json()
            let call = try #require((body["results"] as? [[String: Any]])?.first)
            #expect(call["status"] as? Int == 202)
            #expect(call["label"] as? String == "T,T")
            let id = try #require(call["id"] as? String)
            #expect(!id.isEmpty)
            // The callee runs on its own and is recorded under its caller.
            try await waitUntil { (try? await harness.engine.invocation(id))?.status == .completed }
            let row = try #require(try await harness.engine.invocation(id))
            #expect(row.parent != nil)
            #expect(row.invoker == "T")
            #expect(row.resultLabel == "alice,T")
            #expect(String(decoding: row.logs ?? [], as: UTF8.self) == "async ran\n")
        }
    }

    @Test func submittedInvocationsAreRecordedBeforeTheyRun() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            let payload = [UInt8](try JSONSerialization.data(withJSONObject: ["steps": [["sleep": 0.3]]]))
            let id = try await harness.engine.submit(
                InvocationRequest(target: .path(try path(Self.chain)), invoker: try Privilege(parsing: "alice"), payload: payload))
            let queued = try #require(try await harness.engine.invocation(id))
            #expect(queued.status == .queued || queued.status == .running)
            try await waitUntil { (try? await harness.engine.invocation(id))?.status == .completed }
            let view = try #require(try await harness.engine.invocation(id, visibleTo: Privilege(parsing: "alice")))
            #expect(view.state == "finished")
            #expect(try #require(view.outcome).get().isCompleted)
        }
    }
}

/// Chains across languages: a Python function calls a JavaScript function that calls
/// a Python function; labels travel with the results whichever language produced them.
@Suite(.serialized) struct MixedLanguageChainTests {
    /// Public Python and JavaScript tools (privilege T), alice's Python declassifier, her
    /// secret, and a public board anyone's untainted code may write.
    private static func setUp(_ harness: EngineHarness) async throws {
        try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
        try await harness.install("toolkit", at: "home:<T,T>:apps:py", as: "alice", privilege: "T", label: "T,T")
        try await harness.install("toolkit-node", at: "home:<T,T>:apps:js", as: "alice", privilege: "T", label: "T,T")
        try await harness.install("toolkit", at: "home:<T,T>:apps:declassifier", as: "alice", privilege: "alice", label: "T,T")
        try await harness.createFile("home:<alice,alice>:secret", "alice's secret", label: "alice,alice", as: "alice")
        try await harness.createFile("home:<T,T>:board", "empty", label: "T,T", as: "alice")
    }

    @Test func labelsAreCarriedFromPythonThroughJavaScriptToPythonAndBack() async throws {
        try await EngineHarness.with(node: true) { harness in
            try await Self.setUp(harness)
            let innermost: [String: Any] = ["steps": [["read": "home:<alice,alice>:secret"]]]
            let middle: [String: Any] = [
                "steps": [
                    ["write": "home:<T,T>:board", "data": "written before the call"],
                    ["call": "home:<T,T>:apps:py", "payload": innermost],
                    // Now carrying alice's secrecy: a public board is out of reach.
                    ["write": "home:<T,T>:board", "data": "alice's secret, leaked"],
                ]
            ]
            let body = try await harness.invoke(
                "home:<T,T>:apps:py", as: "bob",
                steps: [
                    ["call": "home:<T,T>:apps:js", "payload": middle],
                    ["write": "home:<T,T>:board", "data": "leaked by the outer function"],
                ]
            ).json()
            let results = try #require(body["results"] as? [Any])
            // Python → JavaScript: the JavaScript result comes back labeled alice,T.
            let jsCall = try #require(results[0] as? [String: Any])
            #expect(jsCall["status"] as? Int == 200)
            #expect(jsCall["label"] as? String == "alice,T")
            let js = try #require(jsCall["data"] as? [String: Any])
            #expect(js["language"] as? String == "javascript")
            #expect(js["label"] as? String == "alice,T")
            #expect(js["invoker"] as? String == "T")
            let jsResults = try #require(js["results"] as? [Any])
            #expect(jsResults[0] as? String == "ok")
            // JavaScript → Python: the innermost read tainted its result, and so the caller.
            let pyCall = try #require(jsResults[1] as? [String: Any])
            #expect(pyCall["label"] as? String == "alice,T")
            #expect(((pyCall["data"] as? [String: Any])?["results"] as? [String]) == ["alice's secret"])
            // The refused flows, in both languages.
            let jsRefusal = try #require(jsResults[2] as? [String: Any])
            #expect(jsRefusal["error"] as? String == "REFUSED")
            #expect(jsRefusal["rule"] as? String == "write rule")
            let pyRefusal = try #require(results[1] as? [String: Any])
            #expect(pyRefusal["error"] as? String == "REFUSED")
            #expect(pyRefusal["rule"] as? String == "write rule")
            #expect(body["label"] as? String == "alice,T")
            // Only the write made before anything secret was seen happened.
            #expect(String(decoding: try await harness.read("home:<T,T>:board", as: "alice").bytes, as: UTF8.self) == "written before the call")
        }
    }

    @Test func aJavaScriptFunctionGetsADeclassifiedResultFromAPythonGateWithThePrivilege() async throws {
        try await EngineHarness.with(node: true) { harness in
            try await Self.setUp(harness)
            let secretCall: [String: Any] = ["steps": [["read": "home:<alice,alice>:secret"]]]
            let body = try await harness.invoke(
                "home:<T,T>:apps:js", as: "bob",
                steps: [
                    ["call": "home:<T,T>:apps:declassifier", "payload": secretCall],
                    ["call": "home:<T,T>:apps:py", "payload": secretCall],
                ]
            ).json()
            let results = try #require(body["results"] as? [[String: Any]])
            // Through alice's declassifier (privilege alice) it comes back public…
            #expect(results[0]["label"] as? String == "T,T")
            #expect(((results[0]["data"] as? [String: Any])?["results"] as? [String]) == ["alice's secret"])
            // …through the public tool (privilege T) it taints the JavaScript caller.
            #expect(results[1]["label"] as? String == "alice,T")
            #expect(body["label"] as? String == "alice,T")
        }
    }
}
