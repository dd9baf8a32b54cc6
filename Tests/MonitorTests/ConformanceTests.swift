import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Sandbox
import Store
import Testing

/// Every CloudCall, allowed and refused, from Python and from JavaScript in a real
/// sandbox, on both stores. The fixtures (`conformance`, `conformance-node`) make the
/// same calls and expect the same answers.
@Suite("CloudCall conformance")
struct ConformanceTests {
    /// alice and bob with homes; bob's home holds `secret` ("bob data").
    static func prepare(_ fs: FileSystem) async throws {
        var bob = try context("bob")
        _ = try await fs.create(.file(bytes("bob data")), label: label("bob,bob"), named: "secret", in: fs.resolve(path("~"), &bob), &bob)
    }

    struct Scenario: Encodable {
        let scenario: String
    }

    /// Runs one scenario and expects every check to pass; returns the final label.
    static func run(
        _ scenario: String, runtime: TestRuntime, backend: Backend, context: SecurityContext, blobs: @escaping (FileSystem) throws -> [String: ExistingBlob] = { _ in [:] },
        after: (FileSystem) async throws -> Void = { _ in }
    ) async throws -> Label {
        let harness = try TestSandboxes.get()
        return try await withFileSystem(backend) { fs in
            try await prepare(fs)
            let function = try harness.start("conformance", runtime: runtime, fileSystem: fs)
            let outcome = try await function.invoke(Scenario(scenario: scenario), context: context, blobs: try blobs(fs))
            let answer = try outcome.json()
            let checks = answer["checks"]?.array ?? []
            #expect(!checks.isEmpty, "no checks ran")
            for check in checks {
                #expect(check["ok"]?.bool == true, "\(scenario): \(check["name"]?.readable ?? "?"): \(check["detail"]?.readable ?? "")")
            }
            // The label the guest saw last is the label the monitor reports.
            #expect(answer["label"]?.string == outcome.context.label.description)
            try await after(fs)
            return outcome.context.label
        }
    }

    @Test(arguments: TestRuntime.allCases, Backend.allCases)
    func labelsAndPrivileges(runtime: TestRuntime, backend: Backend) async throws {
        let final = try await Self.run("labels", runtime: runtime, backend: backend, context: context("alice", clearance: "alice&bob,T"))
        #expect(final == (try label("bob,alice")))
    }

    @Test(arguments: TestRuntime.allCases, Backend.allCases)
    func filesAndDirectories(runtime: TestRuntime, backend: Backend) async throws {
        let final = try await Self.run("files", runtime: runtime, backend: backend, context: context("alice"), after: { fs in
            // What was allowed is stored; what was refused is not.
            var alice = try context("alice")
            #expect(try await fs.read(fileAt: path("~:notes"), &alice).1 == bytes("v2"))
            #expect(try await fs.list(fs.resolve(path("~"), &alice), &alice).map(\.name) == ["album", "notes"])
            var bob = try context("bob")
            #expect(try await fs.list(fs.resolve(path("~"), &bob), &bob).map(\.name) == ["secret"])
            #expect(try await fs.read(fileAt: path("~:secret"), &bob).1 == bytes("bob data"))
        })
        #expect(final == (try label("alice&bob,T")))
    }

    @Test(arguments: TestRuntime.allCases, Backend.allCases)
    func facets(runtime: TestRuntime, backend: Backend) async throws {
        let final = try await Self.run("facets", runtime: runtime, backend: backend, context: context("bob"))
        #expect(final == (try label("alice&bob,T")))
    }

    @Test(arguments: TestRuntime.allCases, Backend.allCases)
    func blobs(runtime: TestRuntime, backend: Backend) async throws {
        _ = try await Self.run("blobs", runtime: runtime, backend: backend, context: context("alice"), blobs: { fs in
            ["input": try storedBlob(fs, bytes("request blob bytes"))]
        }, after: { fs in
            var alice = try context("alice")
            let entry = try await fs.resolve(path("~:greeting"), &alice)
            #expect(try await fs.openBlob(entry, &alice).readAll() == bytes("second"))
        })
    }

    @Test(arguments: TestRuntime.allCases, Backend.allCases)
    func gates(runtime: TestRuntime, backend: Backend) async throws {
        _ = try await Self.run("gates", runtime: runtime, backend: backend, context: context("alice"), after: { fs in
            var alice = try context("alice")
            let gate = try await fs.read(gate: fs.resolve(path("~:thumb"), &alice), &alice)
            #expect(gate.privilege == (try Privilege(parsing: "alice/photo")))
            guard case let .function(function) = gate.target else {
                Issue.record("not a direct gate")
                return
            }
            // Created with the SDK's default runtime: its own language's.
            #expect(function.memoryMB == 256 && function.runtime == runtime.rawValue)
        })
    }

    @Test(arguments: TestRuntime.allCases, Backend.allCases)
    func services(runtime: TestRuntime, backend: Backend) async throws {
        _ = try await Self.run("services", runtime: runtime, backend: backend, context: context("alice"))
    }

    @Test(arguments: TestRuntime.allCases, Backend.allCases)
    func pathHelpers(runtime: TestRuntime, backend: Backend) async throws {
        _ = try await Self.run("paths", runtime: runtime, backend: backend, context: context("alice"), after: { fs in
            var alice = try context("alice")
            #expect(try await fs.read(fileAt: path("~:docs:a"), &alice).1 == bytes("A2"))
        })
    }
}
