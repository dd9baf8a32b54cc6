import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Sandbox
import Testing

/// How a function's return values, exceptions and exits become responses.
@Suite("Guest answers")
struct GuestAnswerTests {
    struct Do: Encodable {
        let `do`: String
    }

    @Test func everyKindOfAnswer() async throws {
        let harness = try TestSandboxes.get()
        try await withFileSystem(.sqlite) { fs in
            let function = try harness.start("errors", fileSystem: fs)
            let alice = try context("alice")

            func response(_ what: String) async throws -> FunctionResponse? {
                let outcome = try await function.invoke(Do(do: what), context: alice)
                guard case let .completed(response) = outcome.status else {
                    Issue.record("\(what): \(outcome.status)")
                    return nil
                }
                return response
            }
            let raised = try await response("raise")
            #expect(raised?.status == 500)
            let error = try JSONValue(decoding: raised?.body ?? [])
            #expect(error["error"]?["type"] == "ValueError")
            #expect(error["error"]?["traceback"]?.string?.contains("something went wrong") == true)
            // sys.exit is the function's answer too; the sandbox keeps serving.
            #expect(try await response("exit")?.status == 500)
            #expect(try await response("bytes")?.body == [0, 0xFF] + bytes("raw"))
            #expect(try await response("str")?.body == bytes("plain text"))
            let none = try await response("none")
            #expect(none?.status == 200 && none?.body == [])
            let created = try await response("status")
            #expect(created?.status == 201 && created?.headers["x-custom"] == "1")

            // A response above the limit fails the invocation; the next one gets a fresh sandbox.
            let large = try await function.invoke(Do(do: "large"), context: alice)
            guard case let .failed(failure) = large.status else {
                Issue.record("a 9 MiB response was accepted")
                return
            }
            #expect(failure.code == "response-too-large", "\(failure)")
        }
    }

    @Test func theOlderEntryPointWorks() async throws {
        let harness = try TestSandboxes.get()
        try await withFileSystem(.sqlite) { fs in
            let function = try harness.start("legacy", fileSystem: fs)
            let answer = try await function.invoke(["n": 1], context: context("alice", label: "alice,T")).json()
            #expect(answer["echo"]?["n"]?.int == 1)
            #expect(answer["label"]?.string == "alice,T")
        }
    }
}
