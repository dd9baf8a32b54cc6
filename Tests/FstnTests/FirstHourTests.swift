import FaastenTestSupport
import Foundation
import FstnKit
import NIOHTTP1
import Testing

/// What a new user meets in their first hour with `fstn`: each message says what
/// happened and what helps, not a neighbouring case's advice.
@Suite("fstn in the first hour")
struct FirstHourTests {
    static func refusal(_ status: Int, _ body: String) -> APIResponse {
        APIResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array(body.utf8))
    }

    @Test func aWriteRefusalDoesNotSuggestDeclassifying() {
        let body = #"{"error":"refused","reason":"refused by the write rule: alice,T may not flow to T,T","rule":"write rule"}"#
        let error = ErrorAdvice.error(for: Self.refusal(403, body), request: APIRequest(.POST, fs: "home:<T,T>:x"), user: "alice")
        #expect(error.exitCode == 1)
        #expect(error.next?.contains("declassify") == false, "\(error.next ?? "")")
        #expect(error.next?.contains("write where your context's label may flow") == true)
    }

    @Test func anUnknownInvocationIdIsAboutTheIdNotAPath() {
        let body = #"{"error":"not_found","reason":"no invocation x"}"#
        let request = APIRequest(.GET, "/v1/invocations/x", advice: ErrorAdvice.unknownInvocation)
        let error = ErrorAdvice.error(for: Self.refusal(404, body), request: request, user: "alice")
        #expect(error.next?.contains("fstn ls") == false)
        #expect(error.next?.contains("check the id") == true)
    }

    @Test func aTildeTheShellExpandedGetsAHintToQuoteIt() throws {
        let home = try #require(ProcessInfo.processInfo.environment["HOME"])
        let body = #"{"error":"not_found","reason":"no such entry"}"#
        for path in [home, home + ":photos"] {
            let error = ErrorAdvice.error(for: Self.refusal(404, body), request: APIRequest(.GET, fs: path), user: "alice")
            #expect(error.next?.contains("quote the path") == true, "\(path): \(error.next ?? "")")
            #expect(error.next?.contains("'~") == true)
        }
        let quoted = ErrorAdvice.error(for: Self.refusal(404, body), request: APIRequest(.GET, fs: "~:photos"), user: "alice")
        #expect(quoted.next?.contains("quote") == false)
    }

    @Test func checkLabelPrintsItsOwnUsage() throws {
        let config = try TemporaryDirectory()
        let result = try BuiltProducts.fstn(["check-label", "alice,"], server: "http://127.0.0.1:9", config: config.url.path)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: invalid label"), "\(result.stderr)")
        #expect(result.stderr.contains("fstn check-label <label>"), "\(result.stderr)")
        #expect(!result.stderr.contains("<subcommand>"), "\(result.stderr)")
    }

    @Test func aWrongShortPasswordAtLoginIsAWrongPassword() throws {
        let server = try FstnServerTests.Server.start()
        defer { server.stop() }
        let user = server.user()
        let registered = try user.run(["register", "alice", "--password-stdin"], input: "alice-password\n")
        #expect(registered.status == 0, "\(registered.stderr)")
        let result = try user.run(["login", "alice", "--password-stdin"], input: "short\n")
        #expect(result.status == 2)
        #expect(result.stderr.contains("wrong name or password"), "\(result.stderr)")
        #expect(!result.stderr.contains("8 to 1024"), "\(result.stderr)")
    }
}
