import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Store
import Testing
import Worker

/// One invocation from outside: resolution, authorization, labels, records and logs.
@Suite(.serialized) struct InvocationTests {
    @Test func invocationIDsAreDistinctVersion4UUIDs() {
        let ids = (0..<1000).map { _ in Engine.newID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let characters = Array(id)
            #expect(UUID(uuidString: id) != nil && id == id.lowercased(), "\(id)")
            #expect(characters[14] == "4" && "89ab".contains(characters[19]), "\(id)")
        }
    }

    @Test func aGateRunsWithItsPrivilegeAndItsResultIsDowngradedWithIt() async throws {
        try await EngineHarness.with { harness in
            try await harness.install("toolkit", at: "~:tool", as: "alice", privilege: "alice")
            try await harness.createFile("~:secret", "alice's secret", label: "alice,alice", as: "alice")
            let result = try await harness.invoke("~:tool", as: "alice", steps: [["read": "~:secret"]])
            let body = try result.json()
            #expect(body["privilege"]?.string == "alice")
            #expect(body["invoker"]?.string == "alice")
            #expect(body["results"]?.array?.first?.string == "alice's secret")
            // Final label: public lifted by the home facet, the gate and the file (all
            // alice,alice); downgraded with alice, the secrecy goes and alice vouches.
            #expect(body["label"]?.string == "alice,T")
            #expect(result.label == (try label("T,alice")))
        }
    }

    @Test func theStartLabelIsLiftedByTraversalAndResolution() async throws {
        try await EngineHarness.with { harness in
            // bob's gate under alice's home: bob invoking it is tainted by alice's facet.
            try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
            try await harness.install("toolkit", at: "~:echo", as: "alice", privilege: "T")
            let result = try await harness.invoke("home:<alice,alice>:echo", as: "bob")
            let body = try result.json()
            // The function saw the lifted label (the facet alice,alice lubbed with T,T).
            #expect(body["label"]?.string == "alice,T")
            // A gate with privilege T declassifies nothing: bob cannot read the result.
            #expect(result.label == (try label("alice,T")))
            #expect(throws: FSError.self) { try ReleaseCheck.check(result.label, to: Privilege(parsing: "bob")) }
            try ReleaseCheck.check(result.label, to: Privilege(parsing: "alice"))
        }
    }

    @Test func theDeclassifyComponentIsWhatTheResultIsDowngradedWith() async throws {
        try await EngineHarness.with { harness in
            try await harness.createFile("~:secret", "s", label: "alice,alice", as: "alice")
            try await harness.install("toolkit", at: "~:keeps", as: "alice", privilege: "alice", declassify: "T")
            try await harness.install("toolkit", at: "~:releases", as: "alice", privilege: "alice")
            let kept = try await harness.invoke("home:<alice,alice>:keeps", as: "bob", steps: [["read": "home:<alice,alice>:secret"]])
            #expect(kept.label.secrecy == (try label("alice,T")).secrecy)
            let released = try await harness.invoke("home:<alice,alice>:releases", as: "bob", steps: [["read": "home:<alice,alice>:secret"]])
            #expect(released.label.secrecy.isTrue)
        }
    }

    @Test func theInvokerMustOwnTheChainsInvokerClearance() async throws {
        try await EngineHarness.with { harness in
            try await harness.createDirectory("home:<T,T>:shared", label: "T,T", as: "alice")
            try await harness.install("toolkit", at: "home:<T,T>:shared:private", as: "alice", privilege: "alice",
                                      label: "T,T", invokerClearance: "alice")
            let refused = try await harness.invoke("home:<T,T>:shared:private", as: "bob")
            let error = try refused.refusal()
            #expect(error.rule == "invoke rule")
            #expect("\(error)".contains("does not imply the invoker clearance alice"))
            // The owner and a delegate that speaks for her (alice/app) are fine … only alice here:
            // a sub-principal does not imply its parent.
            #expect(try await harness.invoke("home:<T,T>:shared:private", as: "alice/app").refusal().rule == "invoke rule")
            _ = try await harness.invoke("home:<T,T>:shared:private", as: "alice").json()
            // Redirect gates accumulate: a redirect requiring bob in front of alice's gate needs both.
            var aliceContext = try context("alice&bob")
            try await harness.fileSystem.transaction(.write, &aliceContext) { fs, context throws(FSError) in
                let shared = try fs.resolve(try! path("home:<T,T>:shared"), &context)
                let target = try fs.lookup(shared, "private", &context)
                let spec = GateSpec(target: .redirect(target), privilege: .none, invokerIntegrityClearance: try! Component(parsing: "bob"))
                _ = try fs.create(.gate(spec), label: try! label("T,T"), named: "front", in: shared, &context)
            }
            #expect(try await harness.invoke("home:<T,T>:shared:front", as: "alice").refusal().rule == "invoke rule")
            #expect(try await harness.invoke("home:<T,T>:shared:front", as: "bob").refusal().rule == "invoke rule")
            _ = try await harness.invoke("home:<T,T>:shared:front", as: "alice&bob").json()
        }
    }

    @Test func missingGatesAndBadTargetsAreRefusedWithAReason() async throws {
        try await EngineHarness.with { harness in
            let missing = try await harness.invoke("~:nothing", as: "alice").refusal()
            #expect(missing == .notFound("nothing"))
            try await harness.createFile("~:file", "x", label: "alice,alice", as: "alice")
            guard case .wrongKind = try await harness.invoke("~:file", as: "alice").refusal() else {
                Issue.record("a file is not a gate")
                return
            }
            // A start label above the clearance is an invalid request, not a run.
            let invalid = try await harness.invoke("~:file", as: "alice", startLabel: "alice,T", clearance: "T,T").refusal()
            guard case .invalidContext = invalid else {
                Issue.record("expected an invalid context, got \(invalid)")
                return
            }
        }
    }

    @Test func everyInvocationThatRunsIsRecordedWithItsOutcomeAndARefusedOneIsNot() async throws {
        try await EngineHarness.with { harness in
            try await harness.install("toolkit", at: "~:tool", as: "alice", privilege: "alice")
            let done = try await harness.invoke("~:tool", as: "alice", steps: [["print": "to the log"]])
            let refused = try await harness.invoke("~:absent", as: "alice")
            await harness.engine.flushRecords()
            let row = try #require(try await harness.engine.invocation(done.id))
            #expect(row.status == .completed)
            #expect(row.gate != nil)
            #expect(row.invoker == "alice")
            #expect(row.target == "~:tool")
            #expect(row.responseStatus == 200)
            #expect(row.resultLabel == done.label.description)
            #expect(row.result.map { String(decoding: $0, as: UTF8.self) }?.contains("to the log") == false)
            #expect(try #require(row.startedAt) >= row.submittedAt)
            #expect(try #require(row.finishedAt) >= row.startedAt!)
            // A refused request changes nothing: it is answered, not recorded.
            guard case let .refused(error) = refused.outcome, case .notFound = error else {
                Issue.record("expected a not-found refusal, got \(refused.outcome)")
                return
            }
            #expect(try await harness.engine.invocation(refused.id) == nil)
        }
    }

    @Test func logsAreLabeledWithTheFinalLabelAndShownOnlyToWhoMayReadIt() async throws {
        try await EngineHarness.with { harness in
            try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
            try await harness.install("toolkit", at: "home:<T,T>:apps:tool", as: "alice", privilege: "T", label: "T,T")
            try await harness.createFile("~:diary", "dear diary", label: "alice,alice", as: "alice")
            // bob runs a function that reads alice's diary (through the public gate) and logs it.
            let result = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "alice",
                steps: [["read": "home:<alice,alice>:diary"], ["print": "logged"], ["stderr": "warned"]])
            await harness.engine.flushRecords()
            let row = try #require(try await harness.engine.invocation(result.id))
            let logs = String(decoding: try #require(row.logs), as: UTF8.self)
            #expect(logs.contains("logged") && logs.contains("warned"))
            #expect(row.logLabel == "alice,T")
            let asAlice = try #require(try await harness.engine.invocation(result.id, visibleTo: Privilege(parsing: "alice")))
            #expect(try String(decoding: #require(asAlice.logs).get(), as: UTF8.self).contains("logged"))
            // bob is not the invoker: he does not see the invocation at all.
            #expect(try await harness.engine.invocation(result.id, visibleTo: Privilege(parsing: "bob")) == nil)
            // A public invocation's logs are public; one that read the diary are alice's.
            let publicRun = try await harness.invoke("home:<T,T>:apps:tool", as: "T", steps: [["print": "hello"]])
            await harness.engine.flushRecords()
            let view = try #require(try await harness.engine.invocation(publicRun.id, visibleTo: Privilege(parsing: "bob")))
            #expect(try String(decoding: #require(view.logs).get(), as: UTF8.self) == "hello\n")
            let secretRun = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "T", steps: [["read": "home:<alice,alice>:diary"], ["print": "the diary"]])
            await harness.engine.flushRecords()
            let hidden = try #require(try await harness.engine.invocation(secretRun.id, visibleTo: Privilege(parsing: "bob")))
            #expect(throws: FSError.self) { try #require(hidden.logs).get() }
            #expect(throws: FSError.self) { try #require(hidden.outcome).get() }
        }
    }

    @Test func logsAreSizeLimitedPerInvocation() async throws {
        var configuration = EngineHarness.testing
        configuration.maxLogBytes = 1000
        try await EngineHarness.with(configuration) { harness in
            try await harness.install("toolkit", at: "~:tool", as: "alice", privilege: "alice")
            let long = String(repeating: "y", count: 5000)
            let first = try await harness.invoke("~:tool", as: "alice", steps: [["print": long]])
            let second = try await harness.invoke("~:tool", as: "alice", steps: [["print": "short"]])
            await harness.engine.flushRecords()
            let firstLogs = String(decoding: try #require(try await harness.engine.invocation(first.id)?.logs), as: UTF8.self)
            #expect(firstLogs.hasPrefix(String(repeating: "y", count: 1000)))
            #expect(firstLogs.contains("more bytes dropped"))
            let secondLogs = String(decoding: try #require(try await harness.engine.invocation(second.id)?.logs), as: UTF8.self)
            #expect(secondLogs == "short\n")
        }
    }

    @Test func invocationsWorkOnPostgreSQLToo() async throws {
        try await EngineHarness.with(backend: .postgres) { harness in
            try await harness.install("toolkit", at: "~:tool", as: "alice", privilege: "alice")
            try await harness.createFile("~:note", "on postgres", label: "alice,alice", as: "alice")
            let result = try await harness.invoke("~:tool", as: "alice", steps: [["read": "~:note"]])
            #expect(try result.json()["results"]?.array?.first?.string == "on postgres")
            await harness.engine.flushRecords()
            #expect(try await harness.engine.invocation(result.id)?.status == .completed)
        }
    }
}
