import Testing
import Worker

/// A function's stdout and stderr reach its logs in the order it wrote them.
@Suite("log order")
struct LogOrderTests {
    @Test func stdoutAndStderrInterleaveAsWritten() async throws {
        try await EngineHarness.with { harness in
            try await harness.createDirectory("home:<T,T>:apps", label: "T,T", as: "alice")
            try await harness.install("toolkit", at: "home:<T,T>:apps:tool", as: "alice", privilege: "T", label: "T,T")
            let result = try await harness.invoke(
                "home:<T,T>:apps:tool", as: "T",
                steps: [["print": "one"], ["stderr": "two"], ["print": "three"], ["stderr": "four"], ["print": "five"]])
            await harness.engine.flushRecords()
            let row = try #require(try await harness.engine.invocation(result.id))
            #expect(String(decoding: try #require(row.logs), as: UTF8.self) == "one\ntwo\nthree\nfour\nfive\n")
        }
    }
}
