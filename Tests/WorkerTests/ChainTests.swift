import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
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
    private static func depth(of result: JSONValue) -> (levels: Int, error: JSONValue?, sandboxes: Set<String>) {
        var levels = 0
        var sandboxes: Set<String> = []
        var current: JSONValue? = result
        while let level = current {
            if level["error"] != nil { return (levels, level, sandboxes) }
            if let sandbox = level["sandbox"]?.string { sandboxes.insert(sandbox) }
            current = level["inner"]
            if current != nil { levels += 1 }
        }
        return (levels, nil, sandboxes)
    }

    @Test func aChainOfDepthTenRunsInTenPlusOneSandboxes() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            let body = try await harness.invoke(Self.chain, as: "alice", steps: [["recurse": Self.chain, "depth": 10]]).json()
            let first = try #require(body["results"]?.array?.first)
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
            let (levels, error, _) = Self.depth(of: try #require(body["results"]?.array?.first))
            #expect(levels == 3)
            #expect(error?["error"]?.string == "LIMIT_EXCEEDED")
            #expect(error?["message"]?.string?.contains("gates in a chain of calls") == true)
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
            let results = try #require(body["results"]?.array)
            let before = try #require(results[0]["data"])
            let after = try #require(results[2]["data"])
            #expect(before["label"]?.string == "T,T")
            #expect(after["label"]?.string == "bob,T")
            // The callee sees the caller's privilege as its invoker and runs with its gate's.
            #expect(after["invoker"]?.string == "T")
            #expect(after["privilege"]?.string == "T")
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
            let taintedCall = try #require(tainted["results"]?.array?.first)
            #expect(taintedCall["label"]?.string == "alice,T")
            #expect(tainted["label"]?.string == "alice,T")
            // Through alice's declassifier (privilege alice) it comes back public.
            let declassified = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "bob", steps: [["call": "home:<T,T>:apps:declassifier", "payload": secretCall]]
            ).json()
            let call = try #require(declassified["results"]?.array?.first)
            #expect(call["data"]?["results"]?.array?.first == "alice's secret")
            #expect(call["label"]?.string == "T,T")
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
            let error = try #require(body["results"]?.array?.first)
            #expect(error["error"]?.string == "REFUSED")
            #expect(error["rule"]?.string == "invoke rule")
            // alice's own gate may.
            let allowed = try await harness.invoke(
                Self.chain, as: "alice", steps: [["call": "home:<T,T>:apps:alices", "payload": [String: Any]()]]
            ).json()
            #expect(allowed["results"]?.array?.first?["status"]?.int == 200)
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
                let (levels, error, _) = Self.depth(of: try #require(body["results"]?.array?.first))
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
            let (levels, error, _) = Self.depth(of: try #require(body["results"]?.array?.first))
            #expect(levels == 1)
            #expect(error?["error"]?.string == "UNAVAILABLE")
            #expect(error?["message"]?.string?.contains("no room for a nested call") == true)
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
            let call = try #require(body["results"]?.array?.first)
            #expect(call["status"]?.int == 202)
            #expect(call["label"]?.string == "T,T")
            let id = try #require(call["id"]?.string)
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
            let results = try #require(body["results"]?.array)
            // Python → JavaScript: the JavaScript result comes back labeled alice,T.
            let jsCall = results[0]
            #expect(jsCall["status"]?.int == 200)
            #expect(jsCall["label"]?.string == "alice,T")
            let js = try #require(jsCall["data"])
            #expect(js["language"]?.string == "javascript")
            #expect(js["label"]?.string == "alice,T")
            #expect(js["invoker"]?.string == "T")
            let jsResults = try #require(js["results"]?.array)
            #expect(jsResults[0].string == "ok")
            // JavaScript → Python: the innermost read tainted its result, and so the caller.
            let pyCall = jsResults[1]
            #expect(pyCall["label"]?.string == "alice,T")
            #expect(pyCall["data"]?["results"] == .array(["alice's secret"]))
            // The refused flows, in both languages.
            let jsRefusal = jsResults[2]
            #expect(jsRefusal["error"]?.string == "REFUSED")
            #expect(jsRefusal["rule"]?.string == "write rule")
            let pyRefusal = results[1]
            #expect(pyRefusal["error"]?.string == "REFUSED")
            #expect(pyRefusal["rule"]?.string == "write rule")
            #expect(body["label"]?.string == "alice,T")
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
            let results = try #require(body["results"]?.array)
            // Through alice's declassifier (privilege alice) it comes back public…
            #expect(results[0]["label"]?.string == "T,T")
            #expect(results[0]["data"]?["results"] == .array(["alice's secret"]))
            // …through the public tool (privilege T) it taints the JavaScript caller.
            #expect(results[1]["label"]?.string == "alice,T")
            #expect(body["label"]?.string == "alice,T")
        }
    }
}
