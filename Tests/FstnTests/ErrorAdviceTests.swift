import FstnKit
import NIOHTTP1
import Testing
import JSONValues

/// How a gateway error becomes `error: …`, details, what to do next and the exit status.
@Suite("Error advice")
struct ErrorAdviceTests {
    static func response(_ status: Int, _ body: String, headers: [(String, String)] = []) -> APIResponse {
        APIResponse(status: status, headers: HTTPHeaders(headers + [("Content-Type", "application/json")]), body: Array(body.utf8))
    }

    @Test func aRefusalExitsOneAndNamesTheRuleAndLabels() {
        let body = #"{"error":"refused","reason":"the result may not be shown","rule":"release rule","labels":{"result":"alice,T","privilege":"bob"}}"#
        let error = ErrorAdvice.error(for: Self.response(403, body), request: APIRequest(.GET, fs: "x"), user: "bob")
        #expect(error.exitCode == 1)
        #expect(error.lines.first == "error: the result may not be shown")
        #expect(error.details == ["rule: release rule", "labels: privilege bob, result alice,T"])
        #expect(error.json["rule"] == "release rule")
    }

    @Test func anInvokeRuleRefusalPointsAtTheGatesInvokerClearance() {
        let body = #"{"error":"refused","reason":"refused by the invoke rule","rule":"invoke rule"}"#
        let error = ErrorAdvice.error(for: Self.response(403, body), request: APIRequest(.POST, "/v1/invoke/x"), user: "bob")
        #expect(error.exitCode == 1)
        #expect(error.next?.contains("fstn gate update PATH --public") == true, "\(error.next ?? "")")
        #expect(error.next?.contains("declassify") == false)
    }

    @Test func otherErrorsExitTwoWithAdviceThatFits() {
        let request = APIRequest(.GET, fs: "x")
        let unauthorized = ErrorAdvice.error(for: Self.response(401, #"{"error":"unauthorized","reason":"token expired"}"#), request: request, user: "alice")
        #expect(unauthorized.exitCode == 2)
        #expect(unauthorized.next == "run `fstn login alice`")
        let forbidden = ErrorAdvice.error(for: Self.response(403, #"{"error":"forbidden","reason":"not an admin"}"#), request: request, user: nil)
        #expect(forbidden.exitCode == 2)
        let limited = ErrorAdvice.error(
            for: Self.response(429, #"{"error":"rate_limited","reason":"slow down"}"#, headers: [("Retry-After", "7")]), request: request, user: nil)
        #expect(limited.next == "wait 7 seconds and try again")
        let failed = ErrorAdvice.error(
            for: Self.response(502, #"{"error":"function_failed","reason":"crashed","code":137}"#, headers: [("X-Faasten-Invocation", "inv-1")]),
            request: request, user: nil)
        #expect(failed.next == "see what the function printed with `fstn logs inv-1`")
        #expect(failed.details == ["code: 137", "invocation: inv-1"])
    }

    @Test func aRequestCanSayWhatToDoForACode() {
        let request = APIRequest(.POST, "/v1/accounts", advice: ["conflict": "choose another name"])
        let error = ErrorAdvice.error(for: Self.response(409, #"{"error":"conflict","reason":"taken"}"#), request: request, user: nil)
        #expect(error.next == "choose another name")
    }

    @Test func aBodyThatIsNotJSONStillGivesAReason() {
        let response = APIResponse(status: 500, headers: HTTPHeaders(), body: Array("oops".utf8))
        let error = ErrorAdvice.error(for: response, request: APIRequest(.GET, "/x"), user: nil)
        #expect(error.reason == "HTTP 500: oops")
        #expect(error.exitCode == 2)
        #expect(error.json["error"] == "client_error")
    }

    @Test func anUnreachableServerSaysHowToStartOne() {
        struct Refused: Error, CustomStringConvertible { var description: String { "connect(descriptor:addr:size:): Connection refused (errno: 111)" } }
        let error = ErrorAdvice.unreachable(server: "http://127.0.0.1:9", error: Refused())
        #expect(error.lines == [
            "error: cannot reach http://127.0.0.1:9: connection refused",
            "is the server running? start it with `faasten serve` or set --server/FSTN_SERVER",
        ])
    }
}

/// Readable output: tables and `key: value` lines.
@Suite("Rendering")
struct RenderingTests {
    @Test func aDirectoryIsATableOfNameAndKind() {
        let object: JSONValue = [
            "kind": "directory", "label": "alice,alice", "path": "~:docs",
            "entries": .array([["name": "notes", "kind": "file"], ["name": "photos", "kind": "directory"]]),
        ]
        #expect(Rendering.listing(object) == "NAME    KIND\nnotes   file\nphotos  directory")
        let faceted: JSONValue = ["kind": "faceted", "path": "home", "facets": .array(["alice,alice", "bob,bob"])]
        #expect(Rendering.listing(faceted) == "NAME           KIND\n<alice,alice>  directory\n<bob,bob>      directory")
    }

    @Test func statIsKeyValueLinesWithoutTheData() {
        let file: JSONValue = ["kind": "file", "label": "alice,alice", "path": "~:docs:notes", "size": 10, "data": "dear diary"]
        #expect(Rendering.lines(Rendering.objectFields(file)) == "kind:  file\npath:  ~:docs:notes\nlabel: alice,alice\nsize:  10")
        let gate: JSONValue = [
            "kind": "gate", "label": "alice,alice", "path": "~:hello",
            "gate": ["privilege": "alice", "invoker_clearance": "T", "runtime": "python3", "memory_mb": 128, "fresh": false],
        ]
        let fields = Rendering.objectFields(gate).map(\.0)
        #expect(fields == ["kind", "path", "label", "privilege", "invoker_clearance", "runtime", "memory_mb", "fresh"])
    }

    @Test func timesAreISO8601() {
        #expect(Rendering.time(0) == "1970-01-01T00:00:00Z")
        #expect(Rendering.time("soon") == "soon")
    }
}
