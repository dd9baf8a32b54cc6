import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Store
import Testing
import Worker

/// The sandbox pool: label-keyed reuse, fresh gates, pre-started sandboxes, the memory
/// budget, per-gate concurrency, the bounded queue, and failures that leave it serving.
@Suite(.serialized) struct PoolTests {
    /// A public gate owned by alice (privilege T: it declassifies nothing) and the files it reads.
    private static func setUp(_ harness: EngineHarness, fresh: Bool = false) async throws {
        try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
        try await harness.install(
            "toolkit", at: "home:<T,T>:apps:tool", as: "alice", privilege: "T", label: "T,T", fresh: fresh)
        try await harness.createFile("home:<alice,alice>:secret", "alice's secret", label: "alice,alice", as: "alice")
    }

    @Test func stateNeverCrossesLabelsButTheOwnersRepeatedInvocationsReuseTheSandbox() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            let gate = "home:<T,T>:apps:tool"
            // alice's invocation reads her secret: the sandbox keeps it in a global and in /tmp.
            let first = try await harness.invoke(gate, as: "alice", steps: [["read": "home:<alice,alice>:secret"]]).json()
            #expect(first["label"]?.string == "alice,T")
            // Her next invocation starts at her label: the warm sandbox flows there and is reused.
            let again = try await harness.invoke(gate, as: "alice", startLabel: "alice,T").json()
            #expect(again["sandbox"]?.string == first["sandbox"]?.string)
            #expect(again["seen"] == .array(["alice's secret"]))
            #expect(again["tmp"] == .array(["alice's secret"]))
            // bob's invocation starts public: alice's sandbox may not serve it.
            let bob = try await harness.invoke(gate, as: "bob").json()
            #expect(bob["sandbox"]?.string != first["sandbox"]?.string)
            #expect(bob["seen"] == .array([]))
            #expect(bob["tmp"] == .array([]))
            // Nor may it serve alice herself when she starts public (what bob's request would look like).
            let alicePublic = try await harness.invoke(gate, as: "alice").json()
            #expect(alicePublic["seen"] == .array([]))
            // A sandbox that only saw public data serves anyone, at any higher label.
            let bobAgain = try await harness.invoke(gate, as: "bob", startLabel: "bob,T").json()
            #expect(bobAgain["seen"] == .array([]))
            let status = await harness.engine.poolStatus()
            #expect(status.idle >= 2)
        }
    }

    @Test func aWarmSandboxIsNotSharedBetweenGatesWithDifferentPrivileges() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness)
            // Same image, same labels, a different privilege: a sandbox taken over through
            // one gate's inputs must not run with the other's privilege.
            try await harness.install("toolkit", at: "~:mine", as: "alice", privilege: "alice", label: "T,T")
            let shared = try await harness.invoke("home:<T,T>:apps:tool", as: "alice").json()
            let mine = try await harness.invoke("~:mine", as: "alice").json()
            #expect(mine["privilege"]?.string == "alice")
            #expect(mine["sandbox"]?.string != shared["sandbox"]?.string)
        }
    }

    @Test func aFreshGateNeverReusesASandbox() async throws {
        try await EngineHarness.with { harness in
            try await Self.setUp(harness, fresh: true)
            var sandboxes: Set<String> = []
            for _ in 0..<3 {
                let body = try await harness.invoke("home:<T,T>:apps:tool", as: "bob", steps: [["print": "x"]]).json()
                sandboxes.insert(try #require(body["sandbox"]?.string))
                #expect(body["tmp"] == .array([]))
            }
            #expect(sandboxes.count == 3)
            #expect(await harness.engine.poolStatus().idle == 0)
        }
    }

    @Test func preStartedSandboxesServeFirstInvocationsAndAreRefilled() async throws {
        var configuration = EngineHarness.testing
        configuration.prestartedPerRuntime = 2
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness)
            await harness.engine.warmUp()
            #expect(await harness.engine.poolStatus().prestarted == 2)
            // A pre-started sandbox gets the function's files when it is assigned.
            let body = try await harness.invoke("home:<T,T>:apps:tool", as: "bob", steps: [["print": "x"]]).json()
            #expect(body["results"] == .array(["ok"]))
            // It is refilled in the background.
            try await waitUntil { await harness.engine.poolStatus().prestarted == 2 }
            // A function asking for a different memory limit gets a sandbox of its own.
            try await harness.install("toolkit", at: "~:big", as: "alice", privilege: "alice", memoryMB: 256)
            _ = try await harness.invoke("~:big", as: "alice").json()
            #expect(await harness.engine.poolStatus().prestarted == 2)
        }
    }

    @Test func aRuntimeNotPrestartedAtWarmUpIsPrestartedAfterItsFirstInvocation() async throws {
        var configuration = EngineHarness.testing
        configuration.prestartedPerRuntime = 2
        configuration.prestartedAtWarmUp = []
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness)
            await harness.engine.warmUp()
            // Unused, it holds no memory.
            #expect(await harness.engine.poolStatus().prestarted == 0)
            #expect(await harness.engine.poolStatus().usedMB == 0)
            _ = try await harness.invoke("home:<T,T>:apps:tool", as: "bob", steps: [["print": "x"]]).json()
            try await waitUntil { await harness.engine.poolStatus().prestarted == 2 }
        }
    }

    @Test func theMemoryBudgetEvictsTheLeastRecentlyUsedIdleSandbox() async throws {
        var configuration = EngineHarness.testing
        configuration.memoryBudgetMB = 256
        try await EngineHarness.with(configuration) { harness in
            // Three privileges, so three keys (one image).
            try await harness.install("toolkit", at: "~:a", as: "alice", privilege: "alice/a")
            try await harness.install("toolkit", at: "~:b", as: "alice", privilege: "alice/b")
            try await harness.install("toolkit", at: "~:c", as: "alice", privilege: "alice/c")
            let a = try await harness.invoke("~:a", as: "alice").json()
            _ = try await harness.invoke("~:b", as: "alice").json()
            #expect(await harness.engine.poolStatus().usedMB == 256)
            // c needs room: a (the least recently used) goes.
            _ = try await harness.invoke("~:c", as: "alice").json()
            let status = await harness.engine.poolStatus()
            #expect(status.usedMB == 256)
            #expect(status.idle == 2)
            // a starts over in a new sandbox (evicting b).
            let aAgain = try await harness.invoke("~:a", as: "alice").json()
            #expect(aAgain["sandbox"]?.string != a["sandbox"]?.string)
        }
    }

    @Test func perGateConcurrencyAndABoundedQueueGiveAClearBusyError() async throws {
        var configuration = EngineHarness.testing
        configuration.maxQueued = 1
        try await EngineHarness.with(configuration) { harness in
            try await harness.install("toolkit", at: "~:slow", as: "alice", privilege: "alice", concurrency: 1)
            let worker = harness.engine
            let slow: [[String: Any]] = [["sleep": 1.0]]
            let payload = [UInt8](try JSONSerialization.data(withJSONObject: ["steps": slow]))
            let request = InvocationRequest(target: .path(try path("~:slow")), invoker: try Privilege(parsing: "alice"), payload: payload)
            let running = Task { await worker.invoke(request) }
            try await waitUntil { await worker.poolStatus().usedMB == 128 }
            let queued = Task { await worker.invoke(request) }
            try await waitUntil { await worker.poolStatus().waiting == 1 }
            let refused = await worker.invoke(request)
            guard case let .busy(reason) = refused.outcome else {
                Issue.record("expected busy, got \(refused.outcome)")
                return
            }
            #expect(reason.contains("waiting"))
            _ = try await running.value.json()
            _ = try await queued.value.json()
            await worker.flushRecords()
            // Refused before anything was recorded; the two accepted ones both ran.
            #expect(try await worker.invocation(refused.id) == nil)
        }
    }

    @Test func aTimeoutKillsTheFunctionAndTheWorkerKeepsServing() async throws {
        try await EngineHarness.with { harness in
            try await harness.install("toolkit", at: "~:tool", as: "alice", privilege: "alice", timeoutMilliseconds: 700)
            let started = ContinuousClock.now
            let result = try await harness.invoke("~:tool", as: "alice", steps: [["sleep": 30]])
            #expect(try result.failure() == .timeout)
            #expect(ContinuousClock.now - started < .seconds(5))
            _ = try await harness.invoke("~:tool", as: "alice", steps: [["print": "still here"]]).json()
            #expect(await harness.engine.poolStatus().usedMB == 128)
        }
    }

    @Test func aFunctionThatDiesMidCallFailsAndTheWorkerKeepsServing() async throws {
        try await EngineHarness.with { harness in
            try await harness.install("toolkit", at: "~:tool", as: "alice", privilege: "alice")
            let before = try await harness.invoke("~:tool", as: "alice").json()
            let crashed = try await harness.invoke("~:tool", as: "alice", steps: [["print": "last words"], ["crash": 3]])
            guard case .guestExited = try crashed.failure() else {
                Issue.record("expected the function to have exited")
                return
            }
            await harness.engine.flushRecords()
            let row = try #require(try await harness.engine.invocation(crashed.id))
            #expect(row.status == .failed)
            #expect(row.outcome.map { if case .failed("exited", _) = $0 { true } else { false } } == true)
            #expect(String(decoding: row.logs ?? [], as: UTF8.self).contains("last words"))
            let after = try await harness.invoke("~:tool", as: "alice").json()
            #expect(after["sandbox"]?.string != before["sandbox"]?.string)
        }
    }

    @Test func aFunctionOverItsMemoryLimitFailsAsSuch() async throws {
        guard getuid() == 0 else { return }  // memory limits need cgroups (CI runs as root)
        try await EngineHarness.with { harness in
            try await harness.install("toolkit", at: "~:tool", as: "alice", privilege: "alice", memoryMB: 64)
            let result = try await harness.invoke("~:tool", as: "alice", steps: [["allocate_mb": 200]])
            #expect(try result.failure() == .memoryLimit)
            _ = try await harness.invoke("~:tool", as: "alice").json()
        }
    }
}

/// Polls `condition` every 20 ms for up to 10 s.
func waitUntil(_ condition: () async -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("the condition did not hold within 10 s", sourceLocation: sourceLocation)
    throw CancellationError()
}
