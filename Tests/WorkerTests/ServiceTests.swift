import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Store
import Testing
import Worker

/// Functions calling external HTTP services through the monitor: the sink rule before
/// anything is sent, no lasting downgrade, the taint after, templates, stored headers,
/// and limits; against a real HTTP server on 127.0.0.1.
@Suite(.serialized) struct ServiceTests {
    private static let tool = "home:<T,T>:apps:tool"

    /// The public tool, alice's and bob's secrets, and a service of alice's at `url`
    /// (privilege alice: it may receive alice's secrets; its answers are labeled svc).
    private static func setUp(_ harness: EngineHarness, url: String, name: String = "svc") async throws {
        try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
        try await harness.install("toolkit", at: tool, as: "alice", privilege: "T", label: "T,T")
        try await harness.createFile("home:<alice,alice>:secret", "alice's secret", label: "alice,alice", as: "alice")
        try await harness.createFile("home:<bob,bob>:secret", "bob's secret", label: "bob,bob", as: "bob")
        try await createService(harness, name: name, url: url)
    }

    private static func createService(
        _ harness: EngineHarness, name: String, url: String, verb: HTTPVerb = .post, taint: String = "svc,T"
    ) async throws {
        var aliceContext = try context("alice")
        let service = Service(
            privilege: try Privilege(parsing: "alice"), taint: try label(taint), url: url, verb: verb,
            headers: ["X-Api-Key": "stored-key"])
        try await harness.fileSystem.transaction(.write, &aliceContext) { fs, context throws(FSError) in
            let apps = try fs.resolve(try! path("home:<T,T>:apps"), &context)
            _ = try fs.create(.service(service), label: try! label("T,T"), named: name, in: apps, &context)
        }
    }

    private static func first(_ body: [String: JSONValue]) throws -> JSONValue {
        try #require(body["results"]?.array?.first)
    }

    @Test func aPublicCallerReachesTheServiceAndIsTaintedWithItsAnswer() async throws {
        let server = try TestHTTPServer()
        try await EngineHarness.with { harness in
            try await Self.setUp(harness, url: server.base + "/echo/{city}")
            let body = try await harness.invoke(
                Self.tool, as: "bob",
                steps: [["service": "home:<T,T>:apps:svc", "payload": "hello", "params": ["city": "New York/../admin?x=1"]]]
            ).json()
            let call = try Self.first(body)
            #expect(call["status"]?.int == 200, "\(call)")
            #expect(call["headers"]?["x-service"]?.string == "test")
            let echo = try jsonObject(Array((call["data"]?.string ?? "").utf8))
            #expect(echo["method"]?.string == "POST")
            #expect(echo["body"]?.string == "hello")
            // The parameter is one percent-encoded path segment: it cannot climb or add a query.
            #expect(echo["path"]?.string == "/echo/New%20York%2F..%2Fadmin%3Fx%3D1")
            // Only the stored headers: the function could not add any.
            #expect(echo["headers"]?["x-api-key"]?.string == "stored-key")
            // The answer taints the caller.
            #expect(call["label"]?.string == "svc,T")
            #expect(body["label"]?.string == "svc,T")
        }
    }

    @Test func theSinkRuleRefusesSecretsTheServiceMayNotReceiveAndSendsNothing() async throws {
        let server = try TestHTTPServer()
        try await EngineHarness.with { harness in
            try await Self.setUp(harness, url: server.base + "/echo/x")
            let body = try await harness.invoke(
                Self.tool, as: "bob", steps: [["read": "home:<bob,bob>:secret"], ["service": "home:<T,T>:apps:svc"]]
            ).json()
            let refusal = try #require(body["results"]?.array?.last)
            #expect(refusal["error"]?.string == "REFUSED")
            #expect(refusal["rule"]?.string == "sink rule")
            #expect(try server.requestCount() == 0)
            // Refused before anything was sent: no taint from the service either.
            #expect(body["label"]?.string == "bob,T")
        }
    }

    @Test func theServicesPrivilegeLetsItsOwnersSecretsOutWithoutALastingDowngrade() async throws {
        let server = try TestHTTPServer()
        try await EngineHarness.with { harness in
            try await Self.setUp(harness, url: server.base + "/echo/x")
            let body = try await harness.invoke(
                Self.tool, as: "bob",
                steps: [
                    ["read": "home:<alice,alice>:secret"], ["service": "home:<T,T>:apps:svc", "payload": "alice's data"],
                    // The downgrade was for the request only: writing alice's data to a public file is still refused.
                    ["create": "home:<T,T>:apps:leak", "data": "alice's secret", "label": "T,T"],
                ]
            ).json()
            let results = try #require(body["results"]?.array)
            let call = results[1]
            #expect(call["status"]?.int == 200)
            #expect(call["label"]?.string == "alice&svc,T")
            let write = results[2]
            #expect(write["rule"]?.string == "write rule")
            #expect(try server.requestCount() == 1)
        }
    }

    @Test func templatesAndLimitsFailWithAReason() async throws {
        let server = try TestHTTPServer()
        var configuration = EngineHarness.testing
        // Time enough for 3 MiB on a loaded machine: the size limit, not the clock, cuts it.
        configuration.serviceTimeout = .seconds(30)
        configuration.maxServiceResponseBytes = 1 << 20
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness, url: server.base + "/echo/{city}")
            try await Self.createService(harness, name: "big", url: server.base + "/big", verb: .get, taint: "T,T")
            let body = try await harness.invoke(
                Self.tool, as: "bob",
                steps: [
                    ["service": "home:<T,T>:apps:svc"],  // no city
                    ["service": "home:<T,T>:apps:big"],
                ]
            ).json()
            let results = try #require(body["results"]?.array)
            #expect(results[0]["error"]?.string == "INVALID_ARGUMENT")
            #expect((results[0]["message"]?.string)?.contains("needs the parameter 'city'") == true)
            #expect(results[1]["error"]?.string == "LIMIT_EXCEEDED", "\(results[1])")
            // A failed call still taints (how it failed depends on the service); one refused
            // before sending (the template) does not.
            #expect(body["label"]?.string == "T,T")
        }
    }

    @Test func aSlowServiceIsCutAtItsTimeout() async throws {
        let server = try TestHTTPServer()
        var configuration = EngineHarness.testing
        // Shorter than /slow's 5 s.
        configuration.serviceTimeout = .seconds(3)
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness, url: server.base + "/echo/x")
            try await Self.createService(harness, name: "slow", url: server.base + "/slow", verb: .get, taint: "slow,T")
            // Timed on its own (a loaded machine slows the others): cut at the 3 s limit,
            // well before its answer at 5 s.
            let started = ContinuousClock.now
            let slow = try await harness.invoke(Self.tool, as: "bob", steps: [["service": "home:<T,T>:apps:slow"]]).json()
            let elapsed = ContinuousClock.now - started
            let slowResults = try #require(slow["results"]?.array)
            #expect(slowResults[0]["error"]?.string == "UNAVAILABLE")
            #expect((slowResults[0]["message"]?.string)?.contains("timed out") == true)
            #expect(elapsed < .milliseconds(4800), "\(elapsed)")
            #expect(slow["label"]?.string == "slow,T")
        }
    }

    @Test func aTricklingServiceIsCutOffAtTheDeadlineOfTheWholeExchange() async throws {
        let server = try TestHTTPServer()
        var configuration = EngineHarness.testing
        configuration.serviceTimeout = .seconds(1)
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness, url: server.base + "/echo/x")
            try await Self.createService(harness, name: "trickle", url: server.base + "/trickle", verb: .get, taint: "T,T")
            // Its headers come at once; its 300 bytes take 30 s: the service's limit covers all of it.
            let started = ContinuousClock.now
            let body = try await harness.invoke(Self.tool, as: "bob", steps: [["service": "home:<T,T>:apps:trickle"]]).json()
            let call = try Self.first(body)
            #expect(call["error"]?.string == "UNAVAILABLE", "\(call)")
            #expect(call["message"]?.string?.contains("timed out") == true, "\(call)")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
        // And the invocation's own deadline, when sooner than the service's limit.
        var long = EngineHarness.testing
        long.serviceTimeout = .seconds(30)
        try await EngineHarness.with(long) { harness in
            try await Self.setUp(harness, url: server.base + "/echo/x")
            try await Self.createService(harness, name: "trickle", url: server.base + "/trickle", verb: .get, taint: "T,T")
            try await harness.install("toolkit", at: "home:<T,T>:apps:short", as: "alice", privilege: "T", label: "T,T", timeoutMilliseconds: 1500)
            let started = ContinuousClock.now
            let short = try await harness.invoke("home:<T,T>:apps:short", as: "bob", steps: [["service": "home:<T,T>:apps:trickle"]])
            // The call ends at the invocation's deadline (reported to the function, or as the
            // invocation's own timeout, whichever the race gives): not 30 s later.
            #expect(ContinuousClock.now - started < .seconds(6), "\(short.outcome)")
        }
    }

    @Test func aParameterIsAlwaysOneSegmentNeverADotSegment() async throws {
        let server = try TestHTTPServer()
        try await EngineHarness.with { harness in
            try await Self.setUp(harness, url: server.base + "/echo/t/{p}/end")
            let body = try await harness.invoke(
                Self.tool, as: "bob",
                steps: [
                    ["service": "home:<T,T>:apps:svc", "params": ["p": ".."]],
                    ["service": "home:<T,T>:apps:svc", "params": ["p": "."]],
                    ["service": "home:<T,T>:apps:svc", "params": ["p": "..."]],
                ]
            ).json()
            let results = try #require(body["results"]?.array)
            for refused in results[0...1] {
                #expect(refused["error"]?.string == "INVALID_ARGUMENT", "\(refused)")
                #expect(refused["message"]?.string?.contains("dot-segment") == true, "\(refused)")
            }
            let echo = try jsonObject(Array((results[2]["data"]?.string ?? "").utf8))
            #expect(echo["path"]?.string == "/echo/t/.../end")
            #expect(try server.requestCount() == 1)
        }
    }

    @Test func servicesOnInternalAddressesAreRefusedUnlessAllowed() async throws {
        let server = try TestHTTPServer()
        var configuration = EngineHarness.testing
        configuration.allowPrivateServiceAddresses = false
        try await EngineHarness.with(configuration) { harness in
            try await Self.setUp(harness, url: server.base + "/echo/x")
            try await Self.createService(harness, name: "named", url: "http://localhost:\(server.port)/echo/x")
            let body = try await harness.invoke(
                Self.tool, as: "bob", steps: [["service": "home:<T,T>:apps:svc"], ["service": "home:<T,T>:apps:named"]]
            ).json()
            for result in try #require(body["results"]?.array) {
                #expect(result["error"]?.string == "INVALID_ARGUMENT")
                #expect(result["message"]?.string?.contains("internal address") == true)
            }
            #expect(try server.requestCount() == 0)
        }
    }

    @Test func theServiceCallerNeedsTheServicesInvokerClearance() async throws {
        let server = try TestHTTPServer()
        try await EngineHarness.with { harness in
            try await Self.setUp(harness, url: server.base + "/echo/x")
            var aliceContext = try context("alice")
            let service = Service(
                privilege: .none, invokerIntegrityClearance: try Component(parsing: "alice"), taint: .public,
                url: server.base + "/echo/x")
            try await harness.fileSystem.transaction(.write, &aliceContext) { fs, context throws(FSError) in
                let apps = try fs.resolve(try! path("home:<T,T>:apps"), &context)
                _ = try fs.create(.service(service), label: try! label("T,T"), named: "private", in: apps, &context)
            }
            let body = try await harness.invoke(Self.tool, as: "alice", steps: [["service": "home:<T,T>:apps:private"]]).json()
            #expect(try Self.first(body)["rule"]?.string == "invoke rule")
            #expect(try server.requestCount() == 0)
        }
    }
}
