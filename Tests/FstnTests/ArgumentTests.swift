import FaastenTestSupport
import Foundation
import FstnKit
import JSONValues
import Processes
import Testing

/// Checks made before any request: names, labels, headers, gate fields, deploy plans.
@Suite("Arguments")
struct ArgumentTests {
    @Test func accountNamesFollowTheGatewaysRule() throws {
        for name in ["alice", "a", "0day", "bob-2", "c.d_e", String(repeating: "x", count: 64)] {
            try Arguments.validateAccountName(name)
        }
        for name in ["", "Alice", "-bob", ".x", "_x", "a b", "a:b", "ä", String(repeating: "x", count: 65)] {
            #expect(throws: FstnError.self, "\(name)") { try Arguments.validateAccountName(name) }
        }
    }

    @Test func labelsAndComponentsAreCheckedAndCanonical() throws {
        #expect(try Arguments.label("--label", "alice,alice") == "alice,alice")
        #expect(try Arguments.component("--privilege", "alice") == "alice")
        let error = #expect(throws: FstnError.self) { try Arguments.label("--label", "alice,") }
        #expect(error?.reason.hasPrefix("--label: invalid label") == true)
        #expect(error?.exitCode == 2)
        #expect(throws: FstnError.self) { try Arguments.component("--privilege", "alice,bob") }
    }

    @Test func headersAreNameColonValue() throws {
        #expect(try Arguments.header("x-request-id: 42") == ("x-request-id", "42"))
        #expect(try Arguments.header("Accept:text/plain:x") == ("Accept", "text/plain:x"))
        #expect(try Arguments.header("x-empty:") == ("x-empty", ""))
        for bad in ["novalue", ":value", "bad name: v", "x-nl: a\nb"] {
            #expect(throws: FstnError.self, "\(bad)") { try Arguments.header(bad) }
        }
    }

    @Test func passwordsAreTheFirstLineAndEightTo1024Bytes() throws {
        #expect(Password.firstLine(of: Data("secret-password\n".utf8)) == "secret-password")
        #expect(Password.firstLine(of: Data("secret-password\r\nmore".utf8)) == "secret-password")
        #expect(Password.firstLine(of: Data("no newline".utf8)) == "no newline")
        try Password.validate("12345678")
        #expect(throws: FstnError.self) { try Password.validate("1234567") }
        #expect(throws: FstnError.self) { try Password.validate(String(repeating: "x", count: 1025)) }
    }

    @Test func aNewGateNeedsAPrivilegeAndExactlyOneOfImageAndRedirect() throws {
        var gate = GateOptions()
        gate.image = "~:hello.image"
        #expect(throws: FstnError.self) { try gate.newObject() }
        gate.privilege = "alice"
        gate.memoryMB = 256
        gate.fresh = true
        gate.label = "alice,alice"
        #expect(
            try gate.newObject()
                == ["kind": "gate", "privilege": "alice", "image": "~:hello.image", "memory_mb": 256, "fresh": true, "label": "alice,alice"])
        gate.redirect = "~:other"
        #expect(throws: FstnError.self) { try gate.newObject() }
        gate.image = nil
        // A redirect gate has no runtime, memory, time limit, freshness or concurrency.
        let error = #expect(throws: FstnError.self) { try gate.newObject() }
        #expect(error?.reason.contains("--memory") == true)
        gate.memoryMB = nil
        gate.fresh = nil
        #expect(try gate.newObject()["redirect"] == "~:other")
    }

    @Test func aGateUpdateSendsOnlyWhatIsGivenAndNeverALabel() throws {
        var gate = GateOptions()
        #expect(throws: FstnError.self) { try gate.update() }  // nothing to change
        gate.timeoutMilliseconds = 5000
        gate.fresh = false
        gate.invokerClearance = "bob"
        #expect(try gate.update() == ["timeout_ms": 5000, "fresh": false, "invoker_clearance": "bob"])
        gate.label = "alice,alice"
        #expect(throws: FstnError.self) { try gate.update() }
        gate.label = nil
        gate.memoryMB = 0
        #expect(throws: FstnError.self) { try gate.update() }
        gate.memoryMB = nil
        gate.concurrency = -1
        #expect(throws: FstnError.self) { try gate.update() }
        gate.concurrency = 0
        gate.declassify = "not,a component"
        #expect(throws: FstnError.self) { try gate.update() }
    }

    @Test func publicIsInvokerClearanceTAndExcludesAnInvokerClearance() throws {
        var gate = GateOptions()
        gate.privilege = "alice"
        gate.image = "~:hello.image"
        // Closed by default: neither field is sent, so the server's defaults apply.
        #expect(try gate.newObject() == ["kind": "gate", "privilege": "alice", "image": "~:hello.image"])
        gate.anyoneMayInvoke = true
        #expect(try gate.newObject()["invoker_clearance"] == "T")
        gate.invokerClearance = "bob"
        let error = #expect(throws: FstnError.self) { try gate.newObject() }
        #expect(error?.reason == "give at most one of --public and --invoker-clearance")
        #expect(error?.next?.contains("anyone") == true)
        // T given both ways is still two answers to one question.
        gate.invokerClearance = "T"
        #expect(throws: FstnError.self) { try gate.newObject() }

        var update = GateOptions()
        update.anyoneMayInvoke = true
        #expect(try update.update() == ["invoker_clearance": "T"])
        update.invokerClearance = "alice"
        #expect(throws: FstnError.self) { try update.update() }
        update.anyoneMayInvoke = false
        update.declassify = "alice"
        #expect(try update.update() == ["invoker_clearance": "alice", "declassify": "alice"])
    }

    @Test func deployDetectsTheRuntimeAndNamesTheGateAfterTheDirectory() throws {
        let temporary = try TemporaryDirectory()
        let python = temporary.url.appendingPathComponent("hello")
        let node = temporary.url.appendingPathComponent("greeter")
        let empty = temporary.url.appendingPathComponent("empty")
        for directory in [python, node, empty] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        try Data("def handle(): pass\n".utf8).write(to: python.appendingPathComponent("workload.py"))
        try Data("export default {}\n".utf8).write(to: node.appendingPathComponent("workload.mjs"))

        let plan = try DeployPlan(directory: python.path + "/")
        #expect(plan.gatePath == "~:hello")
        #expect(plan.imagePath == "~:hello.image")
        #expect(plan.runtime == "python3")
        #expect(try DeployPlan(directory: node.path).runtime == "node")
        #expect(try DeployPlan(directory: node.path, gatePath: "~:apps:greet", runtime: "python3").imagePath == "~:apps:greet.image")
        #expect(throws: FstnError.self) { try DeployPlan(directory: empty.path) }
        #expect(try DeployPlan(directory: empty.path, runtime: "node").runtime == "node")
        #expect(throws: FstnError.self) { try DeployPlan(directory: temporary.url.appendingPathComponent("missing").path) }

        var options = GateOptions()
        options.privilege = "alice"
        options.label = "alice,alice"
        #expect(
            try plan.newGate(options)
                == ["kind": "gate", "privilege": "alice", "image": "~:hello.image", "runtime": "python3", "label": "alice,alice"])
        options.privilege = nil
        #expect(try plan.gateUpdate(options) == ["image": "~:hello.image", "runtime": "python3"])
    }

    @Test func deployPacksTheDirectoryWithoutByteCodeCaches() async throws {
        let temporary = try TemporaryDirectory()
        let function = temporary.url.appendingPathComponent("hello")
        try FileManager.default.createDirectory(at: function.appendingPathComponent("__pycache__"), withIntermediateDirectories: true)
        try Data("def handle(): pass\n".utf8).write(to: function.appendingPathComponent("workload.py"))
        try Data("junk".utf8).write(to: function.appendingPathComponent("__pycache__/workload.cpython-311.pyc"))
        let archive = try await DeployPlan(directory: function.path).pack()
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let listing = try ChildProcess.run("/usr/bin/tar", ["-tzf", archive]).output
        #expect(listing.contains("./workload.py"))
        #expect(!listing.contains("__pycache__"))
    }

    @Test func theServerIsTheOptionThenTheEnvironmentThenTheConfigFileThenTheDefault() throws {
        let temporary = try TemporaryDirectory()
        let configuration = Configuration(environment: ["XDG_CONFIG_HOME": temporary.url.path])
        #expect(configuration.directory.path == temporary.url.path + "/fstn")
        #expect(try configuration.server(option: nil, environment: [:]) == Configuration.defaultServer)
        try FileManager.default.createDirectory(at: configuration.directory, withIntermediateDirectories: true)
        try Data(#"{"server": "https://config.example/"}"#.utf8).write(to: configuration.configFile)
        #expect(try configuration.server(option: nil, environment: [:]) == "https://config.example")
        #expect(try configuration.server(option: nil, environment: ["FSTN_SERVER": "http://env:1"]) == "http://env:1")
        #expect(try configuration.server(option: "http://option:2//", environment: ["FSTN_SERVER": "http://env:1"]) == "http://option:2")
        #expect(throws: FstnError.self) { try configuration.server(option: "ftp://x", environment: [:]) }
        #expect(throws: FstnError.self) { try configuration.server(option: "127.0.0.1:8080", environment: [:]) }
    }

    @Test func theConfigDirectoryFallsBackToHome() {
        #expect(Configuration(environment: ["HOME": "/home/alice"]).directory.path == "/home/alice/.config/fstn")
        #expect(Configuration(environment: ["HOME": "/home/alice", "XDG_CONFIG_HOME": "relative"]).directory.path == "/home/alice/.config/fstn")
    }
}
